// Scoring runs in eval mode whatever the model's dropout: the same scores
// every time, and the model's own mode given back.
#include "reward/reward_data.h"

#include "gtest/gtest.h"
#include "tasks/tokenizer.h"

namespace metarm {
namespace {

ScalarModel DropoutModel() {
  torch::manual_seed(7);
  TransformerConfig config;
  config.vocab_size = ByteTokenizer().vocab_size();
  config.d_model = 16;
  config.n_layers = 1;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 40;
  config.dropout = 0.5;
  return ScalarModel(config);
}

std::vector<ResponseSet> Sets(const Tokenizer& tokenizer) {
  return {{tokenizer.Encode("sort: cab"),
           {tokenizer.Encode("abc"), tokenizer.Encode("bca")}},
          {tokenizer.Encode("sort: zyx"),
           {tokenizer.Encode("xyz"), tokenizer.Encode("zz")}}};
}

TEST(ScoringTest, ScoresAreDeterministicWithDropout) {
  ByteTokenizer tokenizer;
  ScalarModel model = DropoutModel();
  model->train();
  const SequenceLimits limits{16, 16};
  torch::Tensor first =
      ScoreResponseSets(model, Sets(tokenizer), limits, tokenizer);
  torch::Tensor second =
      ScoreResponseSets(model, Sets(tokenizer), limits, tokenizer);
  EXPECT_TRUE(torch::equal(first, second));
  EXPECT_TRUE(model->is_training());  // the caller's mode is kept
  // And they are the eval-mode scores: train mode would drop units.
  MetaBatch batch = MakeMetaBatch(Sets(tokenizer), {0, 1}, limits, tokenizer);
  torch::NoGradGuard no_grad;
  model->eval();
  torch::Tensor eval_scores = ScoreMetaBatch(model, batch);
  model->train();
  torch::Tensor train_scores = ScoreMetaBatch(model, batch);
  EXPECT_TRUE(torch::equal(first, eval_scores));
  EXPECT_FALSE(torch::equal(first, train_scores));
}

TEST(ScoringTest, AccuracyIsDeterministicWithDropout) {
  ByteTokenizer tokenizer;
  ScalarModel model = DropoutModel();
  model->train();
  std::vector<PreferencePair> pairs;
  for (const char* prompt : {"a", "bb", "ccc", "dddd", "e", "ff"}) {
    pairs.push_back({tokenizer.Encode(prompt), tokenizer.Encode("yes"),
                     tokenizer.Encode("no")});
  }
  const SequenceLimits limits{8, 8};
  const double first = EvaluateAccuracy(model, pairs, limits, tokenizer);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(EvaluateAccuracy(model, pairs, limits, tokenizer), first);
  }
  EXPECT_TRUE(model->is_training());
}

// A pair of identical responses is left out of the accuracy, not scored as
// the tie (an error) every model makes on it.
TEST(ScoringTest, AccuracyLeavesOutIdenticalPairs) {
  ByteTokenizer tokenizer;
  ScalarModel model = DropoutModel();
  std::vector<PreferencePair> distinct;
  for (const char* prompt : {"a", "bb", "ccc", "dddd"}) {
    distinct.push_back({tokenizer.Encode(prompt), tokenizer.Encode("yes"),
                        tokenizer.Encode("no")});
  }
  std::vector<PreferencePair> with_identical = distinct;
  with_identical.insert(with_identical.begin() + 1,
                        {tokenizer.Encode("e"), tokenizer.Encode("same"),
                         tokenizer.Encode("same")});
  with_identical.push_back(
      {tokenizer.Encode("f"), tokenizer.Encode("x"), tokenizer.Encode("x")});
  EXPECT_TRUE(SameResponses(with_identical[1]));
  EXPECT_FALSE(SameResponses(with_identical[0]));
  EXPECT_EQ(DistinctPairs(with_identical).size(), distinct.size());
  const SequenceLimits limits{8, 8};
  const double expected = EvaluateAccuracy(model, distinct, limits, tokenizer);
  EXPECT_EQ(EvaluateAccuracy(model, with_identical, limits, tokenizer),
            expected);
  // Both ways round, so the two sets could not agree by accident.
  std::vector<PreferencePair> flipped = distinct;
  for (PreferencePair& pair : flipped) std::swap(pair.chosen, pair.rejected);
  EXPECT_DOUBLE_EQ(
      EvaluateAccuracy(model, flipped, limits, tokenizer) + expected, 1.0);
  EXPECT_EQ(EvaluateAccuracy(model, {with_identical[1]}, limits, tokenizer),
            0.0);
}

}  // namespace
}  // namespace metarm
