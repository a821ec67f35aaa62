#include "rlhf/network_gold.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "model/hf_checkpoint.h"
#include "model/transformer.h"
#include "rlhf/judge.h"
#include "tasks/chat_tokenizer.h"
#include "tasks/letter_tasks.h"
#include "tasks/tokenizer.h"

namespace metarm {
namespace {

namespace fs = std::filesystem;

const SequenceLimits kLimits{16, 12};

std::unique_ptr<ChatTokenizer> Bytes() {
  return *ChatTokenizer::Make(std::make_unique<ByteTokenizer>(),
                              ChatFormat::kPlain, "byte");
}

// A seeded reward network exported as a Hugging Face folder, with
// `calibration` as its gold.json.
std::string GoldFolder(const std::string& name, const std::string& calibration,
                       int64_t vocab_size) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string folder =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  fs::remove_all(folder);
  TransformerConfig config;
  config.vocab_size = vocab_size;
  config.d_model = 16;
  config.n_layers = 1;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 32;
  torch::manual_seed(3);
  ScalarModel network(config);
  EXPECT_TRUE(ExportHf(*network, config, folder).ok());
  if (!calibration.empty()) {
    std::ofstream(folder + "/gold.json") << calibration;
  }
  return folder;
}

std::unique_ptr<Task> Sort() { return *MakeTask("sort"); }

TEST(NetworkGoldTest, NetworkScoreCalibratedThenPenalised) {
  std::unique_ptr<ChatTokenizer> tokenizer = Bytes();
  const std::string folder =
      GoldFolder("gold_formula", R"({"scale": 3.0, "offset": 0.4})",
                 tokenizer->vocab_size());
  absl::StatusOr<std::unique_ptr<Task>> gold =
      MakeNetworkGoldTask(Sort(), folder, *tokenizer, kLimits);
  ASSERT_TRUE(gold.ok()) << gold.status();
  absl::StatusOr<std::unique_ptr<Judge>> network =
      LoadJudgeModel(folder, "test", *tokenizer, kLimits, torch::kCPU);
  ASSERT_TRUE(network.ok()) << network.status();
  const std::string prompt = "sort:dbca=";
  bool some_clipped = false;
  bool some_not = false;
  for (const std::string response :
       {"abcd", "abdc", "abcdaa", "ab", "abzz", "aaaaaaaaaa"}) {
    const double score = (*network)->Score({prompt}, {{response}})[0][0];
    const double match = std::min(1.0, 3.0 * score + 0.4);
    (3.0 * score + 0.4 > 1.0 ? some_clipped : some_not) = true;
    EXPECT_DOUBLE_EQ((*gold)->GoldReward(prompt, response),
                     std::max(-1.0, match - LetterPenalties("abcd", response) -
                                        LetterRepetition("abcd", response)))
        << response;
  }
  // Off-alphabet letters and a wrong length still cost what they cost in
  // the formula: the network replaces the match alone.
  EXPECT_NEAR(LetterPenalties("abcd", "abzz"), 0.25, 1e-12);
  EXPECT_DOUBLE_EQ((*gold)->GoldReward("rev:abc=", "cba"), -1.0)
      << "another task's prompt has no ideal response";
  EXPECT_TRUE(some_not);
  (void)some_clipped;
}

// "formula_weight" w mixes the network with the formula's position match;
// w = 1 is the formula itself (the repetition penalty aside).
TEST(NetworkGoldTest, FormulaWeightMixesInThePositionMatch) {
  std::unique_ptr<ChatTokenizer> tokenizer = Bytes();
  const int64_t vocab = tokenizer->vocab_size();
  const std::string half = GoldFolder(
      "gold_half", R"({"scale": 0.5, "offset": 0.1, "formula_weight": 0.25})",
      vocab);
  absl::StatusOr<std::unique_ptr<Task>> gold =
      MakeNetworkGoldTask(Sort(), half, *tokenizer, kLimits);
  ASSERT_TRUE(gold.ok()) << gold.status();
  absl::StatusOr<std::unique_ptr<Judge>> network =
      LoadJudgeModel(half, "test", *tokenizer, kLimits, torch::kCPU);
  ASSERT_TRUE(network.ok()) << network.status();
  const std::string prompt = "sort:dbca=";
  for (const std::string response : {"abcd", "abdc", "bacd", "abcdd"}) {
    const double score = (*network)->Score({prompt}, {{response}})[0][0];
    const double mixed = 0.75 * std::min(1.0, 0.5 * score + 0.1) +
                         0.25 * PositionMatch("abcd", response);
    EXPECT_NEAR((*gold)->GoldReward(prompt, response),
                mixed - LetterPenalties("abcd", response), 1e-12)
        << response;
  }
  const std::string formula =
      GoldFolder("gold_formula_only",
                 R"({"scale": 1, "offset": 0, "formula_weight": 1})", vocab);
  std::unique_ptr<Task> only_formula =
      *MakeNetworkGoldTask(Sort(), formula, *tokenizer, kLimits);
  for (const std::string response : {"abcd", "abdc", "ab", "abzz", "dcba"}) {
    EXPECT_NEAR(only_formula->GoldReward(prompt, response),
                LetterGoldReward("abcd", response), 1e-12)
        << response;
  }
}

TEST(NetworkGoldTest, PromptsAndDemonstrationsAreTheLetterTasks) {
  std::unique_ptr<ChatTokenizer> tokenizer = Bytes();
  const std::string folder =
      GoldFolder("gold_same_task", R"({"scale": 1, "offset": 0})",
                 tokenizer->vocab_size());
  std::unique_ptr<Task> gold =
      *MakeNetworkGoldTask(Sort(), folder, *tokenizer, kLimits);
  std::unique_ptr<Task> plain = Sort();
  EXPECT_EQ(gold->name(), "sort");
  Rng a(5), b(5);
  for (int i = 0; i < 20; ++i) {
    const std::string prompt = gold->SamplePrompt(a);
    ASSERT_EQ(prompt, plain->SamplePrompt(b));
    ASSERT_EQ(gold->Demonstration(prompt, a), plain->Demonstration(prompt, b));
  }
}

TEST(NetworkGoldTest, CalibrationErrorsNameTheFieldAndFile) {
  std::unique_ptr<ChatTokenizer> tokenizer = Bytes();
  const int64_t vocab = tokenizer->vocab_size();
  struct Case {
    std::string calibration;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "gold.json"},
           {"not json", "gold.json"},
           {R"({"scale": 1})", "\"offset\" must be a finite number"},
           {R"({"scale": "big", "offset": 0})",
            "\"scale\" must be a finite number"},
           {R"({"scale": -1, "offset": 0})", "\"scale\" must be positive"},
           {R"({"scale": 1, "offset": 0, "formula_weight": 1.5})",
            "\"formula_weight\" must be in [0, 1], got 1.5"},
       }) {
    const std::string folder = GoldFolder("gold_bad", c.calibration, vocab);
    absl::StatusOr<std::unique_ptr<Task>> gold =
        MakeNetworkGoldTask(Sort(), folder, *tokenizer, kLimits);
    ASSERT_FALSE(gold.ok()) << c.calibration;
    const std::string message(gold.status().message());
    EXPECT_NE(message.find("task.gold_network"), std::string::npos) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
    EXPECT_NE(message.find(folder), std::string::npos) << message;
  }
}

TEST(NetworkGoldTest, RefusesANetworkThatReadsAnotherVocabulary) {
  std::unique_ptr<ChatTokenizer> tokenizer = Bytes();
  const std::string folder =
      GoldFolder("gold_vocab", R"({"scale": 1, "offset": 0})", 40);
  absl::StatusOr<std::unique_ptr<Task>> gold =
      MakeNetworkGoldTask(Sort(), folder, *tokenizer, kLimits);
  ASSERT_FALSE(gold.ok());
  EXPECT_NE(gold.status().message().find("task.gold_network: " + folder),
            std::string::npos)
      << gold.status();
}

class NotALetterTask : public Task {
 public:
  std::string name() const override { return "other"; }
  std::string SamplePrompt(Rng&) const override { return ""; }
  double GoldReward(const std::string&, const std::string&) const override {
    return 0;
  }
  std::string Demonstration(const std::string&, Rng&) const override {
    return "";
  }
};

TEST(NetworkGoldTest, OnlyForLetterTasks) {
  std::unique_ptr<ChatTokenizer> tokenizer = Bytes();
  const std::string folder = GoldFolder(
      "gold_other", R"({"scale": 1, "offset": 0})", tokenizer->vocab_size());
  absl::StatusOr<std::unique_ptr<Task>> gold = MakeNetworkGoldTask(
      std::make_unique<NotALetterTask>(), folder, *tokenizer, kLimits);
  ASSERT_FALSE(gold.ok());
  EXPECT_NE(gold.status().message().find("for sort and reverse"),
            std::string::npos);
}

// The repository's gold networks (data/gold) keep the formula's traps: a
// response that is too long, off-alphabet, or one letter over and over is
// worse than the ideal response for almost every prompt, and
// demonstrations (often corrupted) are worse on average than the ideal
// ones. Not for every prompt: the network judges the ideal response less
// than perfectly (the reverse network most), and for some prompts it
// rates a trap above the ideal by more than the penalty (docs/testbed.md).
TEST(NetworkGoldTest, RepositoryNetworksKeepTheTraps) {
  std::unique_ptr<ChatTokenizer> tokenizer = Bytes();
  for (const std::string name : {"sort", "reverse"}) {
    absl::StatusOr<std::unique_ptr<Task>> gold = MakeNetworkGoldTask(
        *MakeTask(name), "data/gold/" + name, *tokenizer, kLimits);
    ASSERT_TRUE(gold.ok()) << gold.status();
    const std::unique_ptr<Task> plain = *MakeTask(name);
    const auto& letters = dynamic_cast<const LetterTask&>(*plain);
    Rng rng(17);
    const int n = 200;
    int run_below = 0, long_below = 0, foreign_below = 0;
    double ideal_sum = 0, demonstration_sum = 0;
    for (int i = 0; i < n; ++i) {
      const std::string prompt = (*gold)->SamplePrompt(rng);
      const std::string ideal = letters.IdealResponse(prompt);
      const double best = (*gold)->GoldReward(prompt, ideal);
      ideal_sum += best;
      demonstration_sum +=
          (*gold)->GoldReward(prompt, (*gold)->Demonstration(prompt, rng));
      const std::string run(ideal.size(), ideal[0]);
      run_below += run == ideal || (*gold)->GoldReward(prompt, run) < best;
      long_below += (*gold)->GoldReward(prompt, ideal + ideal) < best;
      std::string foreign = ideal;
      foreign[foreign.size() / 2] = 'z';
      foreign_below += (*gold)->GoldReward(prompt, foreign) < best;
    }
    std::cout << name << ": ideal " << ideal_sum / n << ", demonstrations "
              << demonstration_sum / n << "; ideal above a run of one letter "
              << run_below << ", above itself twice " << long_below
              << ", above an off-alphabet letter " << foreign_below << " of "
              << n << "\n";
    EXPECT_GT(ideal_sum / n, demonstration_sum / n + 0.05) << name;
    EXPECT_GE(run_below, n * 90 / 100) << name;
    EXPECT_GE(long_below, n * 80 / 100) << name;
    EXPECT_GE(foreign_below, n * 90 / 100) << name;
  }
}

}  // namespace
}  // namespace metarm
