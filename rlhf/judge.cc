#include "rlhf/judge.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "model/hf_checkpoint.h"
#include "model/transformer.h"
#include "model/weights_io.h"
#include "rollout/preference_generator.h"
#include "tasks/tokenizer_factory.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

class GoldJudge : public Judge {
 public:
  explicit GoldJudge(const Task& task) : task_(task) {}
  std::string name() const override { return "gold"; }
  std::vector<std::vector<double>> Score(
      const std::vector<std::string>& prompts,
      const std::vector<std::vector<std::string>>& responses) override {
    std::vector<std::vector<double>> scores(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      for (const std::string& response : responses[i]) {
        scores[i].push_back(task_.GoldReward(prompts[i], response));
      }
    }
    return scores;
  }

 private:
  const Task& task_;
};

class ModelJudge : public Judge {
 public:
  ModelJudge(ScalarModel model, std::unique_ptr<ChatTokenizer> own_tokenizer,
             const ChatTokenizer& job_tokenizer, const SequenceLimits& limits)
      : model_(std::move(model)),
        own_tokenizer_(std::move(own_tokenizer)),
        tokenizer_(own_tokenizer_ ? *own_tokenizer_ : job_tokenizer),
        limits_(limits) {}
  std::string name() const override { return "judge"; }
  std::vector<std::vector<double>> Score(
      const std::vector<std::string>& prompts,
      const std::vector<std::vector<std::string>>& responses) override {
    std::vector<std::vector<double>> scores(prompts.size());
    if (prompts.empty()) return scores;
    torch::Tensor all =
        ScoreResponseSets(model_,
                          MakeResponseSets(prompts, responses, tokenizer_),
                          limits_, tokenizer_)
            .to(torch::kCPU, torch::kFloat64)
            .contiguous();
    auto values = all.accessor<double, 2>();
    for (size_t i = 0; i < prompts.size(); ++i) {
      for (int64_t j = 0; j < all.size(1); ++j) {
        scores[i].push_back(values[i][j]);
      }
    }
    return scores;
  }

 private:
  ScalarModel model_;
  std::unique_ptr<ChatTokenizer> own_tokenizer_;
  const ChatTokenizer& tokenizer_;
  SequenceLimits limits_;
};

absl::Status ErrorIfHeadMissing(ScalarModel& model, const std::string& field,
                                const std::string& path) {
  for (const auto& item : model->named_parameters()) {
    if (item.key() == "head.weight" &&
        torch::isnan(item.value()).any().item<bool>()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", path,
          " has no \"score\" head: a judge must be a trained reward model "
          "(a REWARD_MODEL_ONLY job's reward_model_hf, say)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<Judge> MakeGoldJudge(const Task& task) {
  return std::make_unique<GoldJudge>(task);
}

absl::StatusOr<std::unique_ptr<Judge>> LoadJudgeModel(
    const std::string& path, const std::string& field,
    const ChatTokenizer& job_tokenizer, const SequenceLimits& limits,
    const torch::Device& device) {
  const bool folder = PathExists(path + "/config.json");
  METARM_ASSIGN_OR_RETURN(TransformerConfig config,
                          folder ? ReadHfConfig(path) : ReadWeightsConfig(path),
                          field);
  std::unique_ptr<ChatTokenizer> own;
  if (folder && HoldsTokenizerFiles(path)) {
    METARM_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> base,
                            MakeTokenizer(path), field);
    METARM_ASSIGN_OR_RETURN(
        own, ChatTokenizer::Make(std::move(base), job_tokenizer.format(), path),
        field);
    if (config.vocab_size < own->vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", path, ": a vocabulary of ", config.vocab_size,
          " tokens cannot hold its tokenizer's ", own->vocab_size()));
    }
  } else if (config.vocab_size != job_tokenizer.vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", path, " has a vocabulary of ", config.vocab_size,
        " tokens and no tokenizer files of its own, so it would read the "
        "job's tokenizer (task.tokenizer), whose vocabulary is ",
        job_tokenizer.vocab_size(),
        ": a different tokenizer. Put the judge's tokenizer files in its "
        "folder."));
  }
  const int64_t longest =
      limits.max_prompt_tokens + limits.max_response_tokens + 2;
  if (config.max_seq_len < longest) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", path, " takes ", config.max_seq_len,
        " positions; task.max_prompt_tokens + task.max_response_tokens + 2 "
        "is ",
        longest));
  }
  ScalarModel model(config);
  {
    // NaN marks a head weight the file does not fill; a head without a
    // bias (Hugging Face's ...ForSequenceClassification) has bias 0.
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_parameters()) {
      if (item.key() == "head.weight") {
        item.value().fill_(std::numeric_limits<double>::quiet_NaN());
      } else if (item.key() == "head.bias") {
        item.value().zero_();
      }
    }
  }
  METARM_RETURN_IF_ERROR(folder ? LoadHfWeights(*model, config, path)
                                : LoadWeights(*model, config, path),
                         field);
  METARM_RETURN_IF_ERROR(ErrorIfHeadMissing(model, field, path));
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  model->eval();
  model->to(device);
  return std::unique_ptr<Judge>(
      new ModelJudge(std::move(model), std::move(own), job_tokenizer, limits));
}

}  // namespace metarm
