#include "rollout/preference_generator.h"

#include <cmath>

#include "gtest/gtest.h"
#include "tasks/letter_tasks.h"

namespace metarm {
namespace {

// The measured flip rate (the chosen response has the lower gold reward)
// matches the Bradley-Terry model's expectation, within sampling error.
TEST(LabelPairsTest, FlipRateMatchesTheTemperature) {
  SortTask task;
  ByteTokenizer tokenizer;
  Rng data_rng(1);
  std::vector<std::string> prompts;
  std::vector<std::vector<std::string>> responses;
  for (int i = 0; i < 4000; ++i) {
    prompts.push_back(task.SamplePrompt(data_rng));
    responses.push_back({task.Demonstration(prompts.back(), data_rng),
                         task.Demonstration(prompts.back(), data_rng)});
  }
  for (double temperature : {0.1, 0.5, 2.0}) {
    Rng rng(7);
    std::vector<PreferencePair> pairs =
        LabelPairs(task, prompts, responses, temperature, rng, tokenizer);
    double flips = 0, expected = 0, variance = 0;
    int counted = 0;
    for (const PreferencePair& pair : pairs) {
      const std::string prompt = tokenizer.Decode(pair.prompt);
      const double gap =
          task.GoldReward(prompt, tokenizer.Decode(pair.chosen)) -
          task.GoldReward(prompt, tokenizer.Decode(pair.rejected));
      if (gap == 0) continue;  // ties have no right answer
      const double p_flip = 1.0 / (1.0 + std::exp(std::abs(gap) / temperature));
      flips += gap < 0;
      expected += p_flip;
      variance += p_flip * (1 - p_flip);
      ++counted;
    }
    ASSERT_GT(counted, 1000);
    EXPECT_NEAR(flips, expected, 4 * std::sqrt(variance))
        << "temperature " << temperature << ": " << flips / counted
        << " flipped, " << expected / counted << " expected";
  }
}

TEST(SampleResponsesTest, KResponsesPerPromptDeterministic) {
  torch::manual_seed(0);
  TransformerConfig config;
  config.vocab_size = 259;
  config.d_model = 16;
  config.n_layers = 1;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 40;
  LanguageModel policy(config);
  ByteTokenizer tokenizer;
  SortTask task;
  std::vector<std::string> prompts = SamplePrompts(task, 5, 3);
  GenerationSettings settings;
  settings.sampling.max_new_tokens = 8;
  settings.engine.max_sequences = 4;  // prompts wait for slots
  auto sampled_a = SampleResponses(policy, prompts, 3, settings, 4, tokenizer);
  settings.engine.max_sequences = 64;
  auto sampled_b = SampleResponses(policy, prompts, 3, settings, 4, tokenizer);
  ASSERT_TRUE(sampled_a.ok() && sampled_b.ok());
  const auto& a = *sampled_a;
  const auto& b = *sampled_b;
  ASSERT_EQ(a.size(), 5u);
  for (const auto& set : a) EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(a, b);
  std::vector<ResponseSet> sets = MakeResponseSets(prompts, a, tokenizer);
  ASSERT_EQ(sets.size(), 5u);
  for (const ResponseSet& set : sets) {
    EXPECT_EQ(set.responses.size(), 3u);
    for (const TokenSequence& r : set.responses) EXPECT_FALSE(r.empty());
  }
}

}  // namespace
}  // namespace metarm
