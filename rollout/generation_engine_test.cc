// The generation engine against the static sampler (same streams, token for
// token), under every batching the engine can choose: slots, block sizes,
// shared prompts or not, a pool small enough that prompts wait and restart.
#include "rollout/generation_engine.h"

#include "gtest/gtest.h"
#include "rollout/sampler.h"

namespace metarm {
namespace {

TransformerConfig GptConfig() {
  TransformerConfig config;
  config.vocab_size = 7;  // 0 pad, 1 begin, 2 end, 3-6 letters
  config.d_model = 16;
  config.n_layers = 2;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 48;
  return config;
}

// Rotary positions, RMSNorm, SwiGLU and grouped-query attention.
TransformerConfig LlamaConfig() {
  TransformerConfig config = GptConfig();
  config.rotary = true;
  config.norm = NormKind::kRmsNorm;
  config.mlp = MlpKind::kSwiGlu;
  config.n_heads = 4;
  config.n_kv_heads = 2;
  return config;
}

std::vector<TokenSequence> Prompts() {
  return {{1, 3, 4, 5}, {1, 5},    {1, 4, 4, 6, 3, 3, 5},
          {1},          {1, 6, 6}, {1, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6}};
}

struct Case {
  EngineOptions engine;
  bool greedy = false;
};

class EngineEqualsStaticTest : public ::testing::TestWithParam<Case> {};

// Static sampling of each prompt k times (prompt-major), row i from stream i.
Generation StaticSamples(LanguageModel& model,
                         const std::vector<TokenSequence>& prompts, int64_t k,
                         const SamplingOptions& options, uint64_t seed) {
  std::vector<TokenSequence> rows;
  for (const TokenSequence& p : prompts) {
    for (int64_t j = 0; j < k; ++j) rows.push_back(p);
  }
  std::vector<at::Generator> streams =
      SequenceStreams(seed, 0, static_cast<int64_t>(rows.size()));
  return Generate(model, PadSequences(rows, Padding::kLeft), options, streams);
}

void ExpectSameSamples(const Generation& engine, const Generation& reference,
                       double logprob_tolerance) {
  // The static batch runs until its longest row ends; the engine's batch is
  // as wide as its longest response: the same thing.
  ASSERT_TRUE(torch::equal(engine.responses.tokens, reference.responses.tokens))
      << "engine\n"
      << engine.responses.tokens << "\nstatic\n"
      << reference.responses.tokens;
  EXPECT_TRUE(torch::equal(engine.responses.mask, reference.responses.mask));
  EXPECT_TRUE(torch::allclose(engine.logprobs.to(torch::kFloat64),
                              reference.logprobs.to(torch::kFloat64),
                              /*rtol=*/0, logprob_tolerance));
}

void CheckEngineEqualsStatic(const TransformerConfig& config,
                             torch::ScalarType dtype, const Case& c,
                             double tolerance) {
  torch::manual_seed(11);
  LanguageModel model(config);
  model->to(dtype);
  SamplingOptions options;
  options.temperature = 0.9;
  options.top_p = 0.95;
  options.greedy = c.greedy;
  options.max_new_tokens = 20;
  const int64_t k = 3;
  const uint64_t seed = 77;
  const std::vector<TokenSequence> prompts = Prompts();
  GenerationEngine engine(model, options, c.engine);
  absl::StatusOr<std::vector<SampledSequence>> sampled =
      engine.Run(Requests(prompts, k), seed);
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  std::vector<TokenSequence> rows;
  for (const TokenSequence& p : prompts) {
    for (int64_t j = 0; j < k; ++j) rows.push_back(p);
  }
  ExpectSameSamples(ToGeneration(rows, *sampled, 0, torch::kCPU),
                    StaticSamples(model, prompts, k, options, seed), tolerance);
  const EngineStats& stats = engine.stats();
  EXPECT_LE(stats.peak_used_blocks, stats.pool_blocks);
  EXPECT_LE(stats.max_waste_per_sequence, c.engine.block_tokens - 1);
  EXPECT_GT(stats.response_tokens, 0);
}

TEST_P(EngineEqualsStaticTest, GptFloat64) {
  CheckEngineEqualsStatic(GptConfig(), torch::kFloat64, GetParam(), 1e-12);
}

TEST_P(EngineEqualsStaticTest, LlamaFloat64) {
  CheckEngineEqualsStatic(LlamaConfig(), torch::kFloat64, GetParam(), 1e-12);
}

// In float32 the two paths sum in different orders (other batch shapes,
// masked keys), so logits differ in the last bits; a token could only
// differ if a draw fell within ~1e-6 of a boundary, which these do not.
TEST_P(EngineEqualsStaticTest, GptFloat32) {
  CheckEngineEqualsStatic(GptConfig(), torch::kFloat32, GetParam(), 1e-4);
}

EngineOptions Options(int64_t slots, int64_t block, int64_t pool, bool share) {
  EngineOptions o;
  o.max_sequences = slots;
  o.block_tokens = block;
  o.pool_blocks = pool;
  o.share_prompts = share;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Batchings, EngineEqualsStaticTest,
    ::testing::Values(Case{Options(64, 16, 0, true)},
                      Case{Options(64, 16, 0, true), /*greedy=*/true},
                      Case{Options(64, 4, 0, false)},
                      Case{Options(3, 1, 0, true)},
                      Case{Options(5, 4, 0, true)},
                      Case{Options(7, 2, 0, false), /*greedy=*/true},
                      // Small pools: prompts wait and restart.
                      Case{Options(18, 4, 21, true)},
                      Case{Options(18, 2, 46, false)}));

TEST(GenerationEngineTest, SmallPoolMakesPromptsWaitAndRestart) {
  torch::manual_seed(3);
  LanguageModel model(GptConfig());
  model->to(torch::kFloat64);
  SamplingOptions options;
  options.max_new_tokens = 20;
  options.eos_id = -1;  // every response runs to 20 tokens
  GenerationEngine engine(model, options, Options(18, 4, 21, true));
  ASSERT_TRUE(engine.Run(Requests(Prompts(), 3), 5).ok());
  EXPECT_GT(engine.stats().restarts, 0);
  EXPECT_EQ(engine.stats().response_tokens, 6 * 3 * 20);
  EXPECT_LE(engine.stats().peak_used_blocks, 20);
}

TEST(GenerationEngineTest, SharedPromptIsPrefilledOnce) {
  torch::manual_seed(4);
  LanguageModel model(GptConfig());
  SamplingOptions options;
  options.max_new_tokens = 4;
  EngineOptions shared = Options(64, 4, 0, true);
  EngineOptions separate = Options(64, 4, 0, false);
  GenerationEngine a(model, options, shared), b(model, options, separate);
  ASSERT_TRUE(a.Run(Requests(Prompts(), 5), 1).ok());
  ASSERT_TRUE(b.Run(Requests(Prompts(), 5), 1).ok());
  int64_t prompt_tokens = 0;
  for (const TokenSequence& p : Prompts()) prompt_tokens += p.size();
  EXPECT_EQ(a.stats().prompt_tokens, prompt_tokens);
  EXPECT_EQ(b.stats().prompt_tokens, 5 * prompt_tokens);
  EXPECT_LT(a.stats().peak_used_blocks, b.stats().peak_used_blocks);
}

TEST(GenerationEngineTest, RefusesRequestsThatCannotRun) {
  torch::manual_seed(5);
  LanguageModel model(GptConfig());
  SamplingOptions options;
  options.max_new_tokens = 20;
  GenerationEngine small_pool(model, options, Options(8, 4, 5, true));
  absl::StatusOr<std::vector<SampledSequence>> out =
      small_pool.Run(Requests(Prompts(), 3), 1);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("KV blocks"), std::string::npos)
      << out.status();
  GenerationEngine few_slots(model, options, Options(2, 4, 0, true));
  EXPECT_FALSE(few_slots.Run(Requests(Prompts(), 3), 1).ok());
  options.max_new_tokens = 40;  // 11-token prompt + 40 > max_seq_len 48
  GenerationEngine too_long(model, options, Options(8, 4, 0, true));
  EXPECT_FALSE(too_long.Run(Requests(Prompts(), 1), 1).ok());
}

// A request's own max_new_tokens ends its responses early; the tokens are
// the first ones of the same streams' longer responses.
TEST(GenerationEngineTest, PerRequestLimitCutsTheSameStreamsShort) {
  torch::manual_seed(6);
  LanguageModel model(GptConfig());
  model->to(torch::kFloat64);
  SamplingOptions options;
  options.max_new_tokens = 12;
  options.eos_id = -1;
  GenerationEngine engine(model, options, Options(8, 4, 0, true));
  std::vector<GenerationRequest> full = Requests(Prompts(), 2);
  std::vector<GenerationRequest> cut = full;
  for (size_t r = 0; r < cut.size(); ++r) cut[r].max_new_tokens = 1 + 2 * r;
  absl::StatusOr<std::vector<SampledSequence>> a = engine.Run(full, 3);
  absl::StatusOr<std::vector<SampledSequence>> b = engine.Run(cut, 3);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < b->size(); ++i) {
    const size_t limit = 1 + 2 * (i / 2);
    ASSERT_EQ((*b)[i].response.size(), limit) << "sequence " << i;
    EXPECT_TRUE(std::equal((*b)[i].response.begin(), (*b)[i].response.end(),
                           (*a)[i].response.begin()))
        << "sequence " << i;
  }
  cut[0].max_new_tokens = 13;  // more than the sampling options allow
  EXPECT_FALSE(engine.Run(cut, 3).ok());
}

TEST(WorstCaseBlocksTest, CountsSharedPromptBlocksOnce) {
  // 10-token prompt, blocks of 4: 2 full prompt blocks shared; each
  // response stores positions 0..10+6-2 = 15 -> 4 blocks, 2 of them its own.
  EXPECT_EQ(WorstCaseBlocks(10, 3, 6, 4, true), 2 + 3 * 2);
  EXPECT_EQ(WorstCaseBlocks(10, 3, 6, 4, false), 3 * 4);
  EXPECT_EQ(WorstCaseBlocks(8, 2, 1, 4, true), 2);
}

}  // namespace
}  // namespace metarm
