#include "rlhf/run_data.h"

#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rollout/preference_generator.h"
#include "training/job_options.h"
#include "util/random_streams.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

class Testbed : public RlhfData {
 public:
  explicit Testbed(const Task& task) : task_(task) {}
  std::vector<std::string> TrainPrompts(int64_t n,
                                        uint64_t seed) const override {
    return SamplePrompts(task_, n, seed);
  }
  std::vector<std::string> HeldOutPrompts(int64_t n,
                                          uint64_t seed) const override {
    return SamplePrompts(task_, n, seed);
  }
  Demonstration SampleDemonstration(Rng& rng) const override {
    std::string prompt = task_.SamplePrompt(rng);
    std::string response = task_.Demonstration(prompt, rng);
    return {std::move(prompt), std::move(response)};
  }
  const Task* gold() const override { return &task_; }
  std::optional<RewardData> GivenPairs() const override { return std::nullopt; }
  nlohmann::json Summary() const override { return nlohmann::json::object(); }

 private:
  const Task& task_;
};

// What the files hold once read and split.
struct FileContents {
  std::vector<std::string> train_prompts, eval_prompts;
  std::vector<Demonstration> demonstrations;
  RewardData pairs;
  nlohmann::json summary;
};

class Files : public RlhfData {
 public:
  explicit Files(FileContents contents) : c_(std::move(contents)) {}
  std::vector<std::string> TrainPrompts(int64_t n,
                                        uint64_t seed) const override {
    return Draw(c_.train_prompts, n, seed);
  }
  std::vector<std::string> HeldOutPrompts(int64_t n,
                                          uint64_t seed) const override {
    return Draw(c_.eval_prompts, n, seed);
  }
  Demonstration SampleDemonstration(Rng& rng) const override {
    return c_.demonstrations[rng.Below(
        static_cast<int64_t>(c_.demonstrations.size()))];
  }
  const Task* gold() const override { return nullptr; }
  std::optional<RewardData> GivenPairs() const override { return c_.pairs; }
  nlohmann::json Summary() const override { return c_.summary; }

 private:
  // n prompts in the order of a permutation of `seed`, repeated when n is
  // larger than the set: no prompt twice before every prompt once.
  static std::vector<std::string> Draw(const std::vector<std::string>& from,
                                       int64_t n, uint64_t seed) {
    const int64_t size = static_cast<int64_t>(from.size());
    std::vector<std::string> drawn;
    std::vector<int64_t> order;
    for (int64_t i = 0; i < n; ++i) {
      if (i % size == 0) {
        order = Permutation(size, SubstreamSeed(seed, i / size), 0);
      }
      drawn.push_back(from[order[i % size]]);
    }
    return drawn;
  }

  FileContents c_;
};

nlohmann::json CountsToJson(const PromptCounts& counts) {
  return {{"read", counts.read},
          {"kept", counts.read - counts.dropped},
          {"shortened", counts.shortened},
          {"dropped_too_long", counts.dropped}};
}

// The held-out pairs: task.eval_pairs, or task.held_out_fraction of
// task.train_pairs chosen with the seed. `texts` follows the same split.
absl::Status ReadPairs(const Job& job, const Tokenizer& tokenizer,
                       RewardData& pairs, std::vector<PairText>& train_texts,
                       std::vector<PairText>& eval_texts) {
  const TaskSpec& task = job.task();
  METARM_ASSIGN_OR_RETURN(std::vector<PairRecord> all,
                          ReadPairRecords(task.train_pairs(), tokenizer));
  auto take =
      [](std::vector<PairRecord>& from, const std::vector<int64_t>& indices,
         std::vector<PreferencePair>& tokens, std::vector<PairText>& texts) {
        for (int64_t i : indices) {
          tokens.push_back(std::move(from[i].tokens));
          texts.push_back(std::move(from[i].text));
        }
      };
  auto every = [](size_t n) {
    std::vector<int64_t> indices(n);
    std::iota(indices.begin(), indices.end(), 0);
    return indices;
  };
  if (!task.eval_pairs().empty()) {
    take(all, every(all.size()), pairs.train, train_texts);
    METARM_ASSIGN_OR_RETURN(std::vector<PairRecord> held_out,
                            ReadPairRecords(task.eval_pairs(), tokenizer));
    take(held_out, every(held_out.size()), pairs.eval, eval_texts);
    return absl::OkStatus();
  }
  const IndexSplit split = SplitOffHeldOut(
      static_cast<int64_t>(all.size()), task.held_out_fraction(),
      StreamSeed(job.seed(), Stream::kHeldOutSplit));
  take(all, split.train, pairs.train, train_texts);
  take(all, split.held_out, pairs.eval, eval_texts);
  if (pairs.train.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        task.train_pairs(), ": ", all.size(),
        " pairs leave none to train on after task.held_out_fraction"));
  }
  return absl::OkStatus();
}

// A prompt file, or the given pairs' prompts; through the fit rule.
absl::StatusOr<PromptSet> ReadPromptSet(const std::string& path,
                                        const std::vector<PairText>& pairs,
                                        const std::string& pairs_source,
                                        const PromptFitter& fitter) {
  if (!path.empty()) return ReadPrompts(path, fitter);
  std::vector<std::string> texts;
  for (const PairText& pair : pairs) texts.push_back(pair.prompt);
  PromptSet set = fitter.FitTexts(texts);
  METARM_RETURN_IF_ERROR(CheckSomePromptFits(
      set, absl::StrCat(pairs_source, " (its prompts)"), fitter));
  return set;
}

}  // namespace

std::unique_ptr<RlhfData> TestbedData(const Task& task) {
  return std::make_unique<Testbed>(task);
}

absl::StatusOr<std::unique_ptr<RlhfData>> LoadFileData(
    const Job& job, const Tokenizer& tokenizer) {
  const TaskSpec& task = job.task();
  FileContents c;
  // Every file is read and every file's problem reported at once (the
  // first of each file), so that one run of --validate_only finds them all.
  std::vector<std::string> problems;
  auto note = [&problems](const absl::Status& status) {
    if (!status.ok()) problems.emplace_back(status.message());
    return status.ok();
  };
  std::vector<PairText> train_texts, eval_texts;
  const bool pairs_read =
      note(ReadPairs(job, tokenizer, c.pairs, train_texts, eval_texts));
  const ChatFormat format = ChatFormatOf(task);
  const PromptFitter fitter(format, tokenizer, task.max_prompt_tokens());
  // Prompts taken from the pairs need the pairs; a prompt file does not.
  auto read_prompts = [&](const std::string& path,
                          const std::vector<PairText>& texts,
                          const std::string& source, PromptSet& set) {
    if (path.empty() && !pairs_read) return;
    absl::StatusOr<PromptSet> read = ReadPromptSet(path, texts, source, fitter);
    if (note(read.status())) set = *std::move(read);
  };
  PromptSet train, eval;
  read_prompts(task.train_prompts(), train_texts, task.train_pairs(), train);
  read_prompts(
      task.eval_prompts(), eval_texts,
      task.eval_pairs().empty() ? task.train_pairs() : task.eval_pairs(), eval);
  if (!task.sft_data().empty()) {
    absl::StatusOr<std::vector<Demonstration>> demonstrations =
        ReadDemonstrations(task.sft_data(), format);
    if (note(demonstrations.status())) c.demonstrations = *demonstrations;
  } else {
    for (const PairText& pair : train_texts) {
      c.demonstrations.push_back({pair.prompt, pair.chosen});
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  c.train_prompts = std::move(train.prompts);
  c.eval_prompts = std::move(eval.prompts);
  c.summary = {{"train_pairs", c.pairs.train.size()},
               {"held_out_pairs", c.pairs.eval.size()},
               {"demonstrations", c.demonstrations.size()},
               {"train_prompts", CountsToJson(train.counts)},
               {"held_out_prompts", CountsToJson(eval.counts)},
               {"chat_template", ChatFormatName(format)}};
  return std::unique_ptr<RlhfData>(new Files(std::move(c)));
}

}  // namespace metarm
