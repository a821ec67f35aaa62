#include "model/transformer.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TransformerConfig TinyConfig(bool rotary) {
  TransformerConfig config;
  config.vocab_size = 23;
  config.d_model = 16;
  config.n_layers = 2;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 24;
  config.rotary = rotary;
  return config;
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

class TransformerTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
  TransformerConfig config() const { return TinyConfig(GetParam()); }
};

TEST_P(TransformerTest, HeadShapes) {
  LanguageModel lm(config());
  ScalarModel scalar(config());
  torch::Tensor tokens = torch::randint(23, {3, 7}, torch::kInt64);
  torch::Tensor mask = torch::ones({3, 7}, torch::kInt64);
  EXPECT_EQ(lm->forward(tokens, mask).sizes(),
            (std::vector<int64_t>{3, 7, 23}));
  EXPECT_EQ(scalar->Values(tokens, mask).sizes(), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(scalar->Score(tokens, mask).sizes(), (std::vector<int64_t>{3}));
}

// A sequence's outputs do not depend on the padding around it.
TEST_P(TransformerTest, PaddingOnEitherSideChangesNothing) {
  LanguageModel lm(config());
  torch::Tensor sequence = torch::randint(23, {1, 5}, torch::kInt64);
  torch::Tensor plain = lm->forward(sequence, torch::ones({1, 5}));
  torch::Tensor padded =
      torch::cat({torch::zeros({1, 3}, torch::kInt64), sequence,
                  torch::full({1, 2}, 7, torch::kInt64)},
                 1);
  torch::Tensor mask = torch::cat(
      {torch::zeros({1, 3}), torch::ones({1, 5}), torch::zeros({1, 2})}, 1);
  torch::Tensor out = lm->forward(padded, mask).narrow(1, 3, 5);
  EXPECT_LT(MaxAbsDiff(out, plain), 1e-5);
}

TEST_P(TransformerTest, ScoreReadsTheLastRealToken) {
  ScalarModel rm(config());
  torch::Tensor tokens = torch::randint(23, {2, 6}, torch::kInt64);
  torch::Tensor mask = torch::tensor({{0, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}});
  torch::Tensor values = rm->Values(tokens, mask);
  torch::Tensor scores = rm->Score(tokens, mask);
  EXPECT_FLOAT_EQ(scores[0].item<float>(), values[0][5].item<float>());
  EXPECT_FLOAT_EQ(scores[1].item<float>(), values[1][3].item<float>());
  // Changing a padding token leaves the score alone.
  tokens[1][5] = (tokens[1][5].item<int64_t>() + 1) % 23;
  EXPECT_FLOAT_EQ(rm->Score(tokens, mask)[1].item<float>(),
                  scores[1].item<float>());
}

// Incremental decoding with the cache equals recomputing the whole sequence.
TEST_P(TransformerTest, KvCacheMatchesFullRecomputation) {
  LanguageModel lm(config());
  lm->eval();
  torch::NoGradGuard no_grad;
  // Left-padded prompts of different lengths, then 6 generated tokens.
  torch::Tensor prompt = torch::randint(23, {3, 5}, torch::kInt64);
  torch::Tensor prompt_mask =
      torch::tensor({{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}, {0, 0, 0, 0, 1}});
  torch::Tensor generated = torch::randint(23, {3, 6}, torch::kInt64);
  KvCache cache;
  std::vector<torch::Tensor> step_logits;
  step_logits.push_back(lm->forward(prompt, prompt_mask, &cache));
  for (int64_t t = 0; t < 6; ++t) {
    step_logits.push_back(lm->forward(
        generated.narrow(1, t, 1), torch::ones({3, 1}, torch::kInt64), &cache));
  }
  torch::Tensor incremental = torch::cat(step_logits, 1);
  torch::Tensor full = lm->forward(
      torch::cat({prompt, generated}, 1),
      torch::cat({prompt_mask, torch::ones({3, 6}, torch::kInt64)}, 1));
  EXPECT_EQ(cache.length(), 11);
  // Padding rows differ by design (a padding query sees only itself in
  // both); compare the real positions.
  torch::Tensor real =
      torch::cat({prompt_mask, torch::ones({3, 6}, torch::kInt64)}, 1)
          .to(torch::kBool)
          .unsqueeze(-1);
  EXPECT_LT(
      MaxAbsDiff(incremental.masked_select(real), full.masked_select(real)),
      1e-5);
  EXPECT_GT(cache.bytes(), 0);
}

TEST_P(TransformerTest, TooLongSequenceThrows) {
  LanguageModel lm(config());
  torch::Tensor tokens = torch::zeros({1, 25}, torch::kInt64);
  EXPECT_THROW(lm->forward(tokens, torch::ones({1, 25})),
               std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Positions, TransformerTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Rotary" : "Learned";
                         });

TEST(LastRealIndexTest, AnyPadding) {
  torch::Tensor mask =
      torch::tensor({{0, 1, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 1}});
  EXPECT_TRUE(torch::equal(LastRealIndex(mask), torch::tensor({2, 0, 0, 3})));
}

}  // namespace
}  // namespace metarm
