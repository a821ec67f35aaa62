#include "rollout/sampler.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TransformerConfig SmallVocabConfig() {
  TransformerConfig config;
  config.vocab_size = 6;  // 0 pad, 1 begin, 2 end, 3-5 letters
  config.d_model = 16;
  config.n_layers = 2;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 32;
  return config;
}

TokenBatch Prompts() {
  return PadSequences({{1, 3, 4, 5}, {1, 5}, {1, 4, 4}}, Padding::kLeft);
}

Generation Sample(LanguageModel& model, const SamplingOptions& options,
                  uint64_t seed) {
  std::vector<at::Generator> streams = SequenceStreams(seed, 0, 3);
  return Generate(model, Prompts(), options, streams);
}

TEST(TopPFilterTest, KeepsTheSmallestNucleus) {
  torch::Tensor probs =
      torch::tensor({{0.5, 0.3, 0.15, 0.05}}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(
      TopPFilter(probs, 0.7),
      torch::tensor({{0.625, 0.375, 0.0, 0.0}}, torch::kFloat64)));
  EXPECT_TRUE(
      torch::allclose(TopPFilter(probs, 0.01),
                      torch::tensor({{1.0, 0.0, 0.0, 0.0}}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(TopPFilter(probs, 1.0), probs));
}

TEST(GenerateTest, SameSeedSameSamples) {
  torch::manual_seed(0);
  LanguageModel model(SmallVocabConfig());
  SamplingOptions options;
  options.max_new_tokens = 10;
  Generation a = Sample(model, options, 5);
  Generation b = Sample(model, options, 5);
  Generation c = Sample(model, options, 6);
  EXPECT_TRUE(torch::equal(a.sequences.tokens, b.sequences.tokens));
  EXPECT_TRUE(torch::equal(a.logprobs, b.logprobs));
  EXPECT_FALSE(torch::equal(a.responses.tokens, c.responses.tokens));
}

// A tiny nucleus is greedy decoding, and so is `greedy`; both checked
// against argmax over logits recomputed from scratch (no cache) at every
// step.
class GreedyTest : public ::testing::TestWithParam<bool> {};

TEST_P(GreedyTest, MatchesFullRecomputation) {
  torch::manual_seed(1);
  LanguageModel model(SmallVocabConfig());
  model->eval();
  SamplingOptions options;
  if (GetParam()) {
    options.greedy = true;
  } else {
    options.top_p = 1e-6;
  }
  options.max_new_tokens = 8;
  options.eos_id = -1;  // never ends: compare all 8 steps
  Generation out = Sample(model, options, 3);
  TokenBatch prompts = Prompts();
  torch::Tensor tokens = prompts.tokens;
  torch::Tensor mask = prompts.mask;
  torch::NoGradGuard no_grad;
  for (int64_t step = 0; step < 8; ++step) {
    torch::Tensor next = model->forward(tokens, mask).select(1, -1).argmax(-1);
    EXPECT_TRUE(torch::equal(next, out.responses.tokens.select(1, step)))
        << "step " << step;
    tokens = torch::cat({tokens, next.unsqueeze(1)}, 1);
    mask = torch::cat({mask, torch::ones({3, 1}, torch::kInt64)}, 1);
  }
}

INSTANTIATE_TEST_SUITE_P(TinyTopPOrGreedy, GreedyTest, ::testing::Bool());

// A row's tokens come from its own stream alone: the same prompt and
// stream give the same tokens in any batch.
TEST(GenerateTest, ARowsSamplesDoNotDependOnItsBatch) {
  torch::manual_seed(4);
  LanguageModel model(SmallVocabConfig());
  model->to(torch::kFloat64);
  SamplingOptions options;
  options.max_new_tokens = 12;
  options.eos_id = -1;
  Generation all = Sample(model, options, 8);
  std::vector<at::Generator> one{SequenceStream(8, 1)};
  Generation alone =
      Generate(model, PadSequences({{1, 5}}, Padding::kLeft), options, one);
  EXPECT_TRUE(torch::equal(all.responses.tokens[1], alone.responses.tokens[0]));
}

TEST(GenerateTest, RowsStopAtTheEndTokenAndHoldPaddingAfter) {
  torch::manual_seed(2);
  LanguageModel model(SmallVocabConfig());
  SamplingOptions options;
  options.max_new_tokens = 20;
  Generation out = Sample(model, options, 9);
  const int64_t steps = out.responses.tokens.size(1);
  EXPECT_LE(steps, 20);
  auto tokens = out.responses.tokens.accessor<int64_t, 2>();
  auto mask = out.responses.mask.accessor<int64_t, 2>();
  auto logprobs = out.logprobs.accessor<float, 2>();
  int ended = 0;
  for (int64_t row = 0; row < 3; ++row) {
    bool done = false;
    for (int64_t t = 0; t < steps; ++t) {
      if (done) {
        EXPECT_EQ(tokens[row][t], 0) << "row " << row << " step " << t;
        EXPECT_EQ(mask[row][t], 0);
        EXPECT_EQ(logprobs[row][t], 0.0f);
      } else {
        EXPECT_EQ(mask[row][t], 1);
        EXPECT_LT(logprobs[row][t], 0.0f);
        done = tokens[row][t] == 2;
        ended += done;
      }
    }
  }
  // With 6 tokens and 20 steps a random model ends most rows.
  EXPECT_GE(ended, 1);
  EXPECT_EQ(out.sequences.tokens.size(1), 4 + steps);
}

}  // namespace
}  // namespace metarm
