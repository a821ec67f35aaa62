// A rollout worker's scores (old and reference log-probabilities, reward
// scores) come from eval-mode passes whatever the models' dropout: the same
// batch twice from the same seed, and every model keeps its own mode.
#include "rollout/rollout_worker.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TransformerConfig DropoutConfig() {
  TransformerConfig config;
  config.vocab_size = ByteTokenizer().vocab_size();
  config.d_model = 16;
  config.n_layers = 1;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 32;
  config.dropout = 0.5;
  return config;
}

TEST(BuildExperienceTest, ScoresAreDeterministicWithDropout) {
  torch::manual_seed(3);
  LanguageModel policy(DropoutConfig());
  LanguageModel reference(DropoutConfig());
  ScalarModel reward_model(DropoutConfig());
  policy->train();
  reference->train();
  reward_model->train();
  ByteTokenizer tokenizer;
  GenerationSettings settings;
  settings.sampling.max_new_tokens = 6;
  settings.sampling.eos_id = tokenizer.eos_id();
  settings.sampling.pad_id = tokenizer.pad_id();
  const std::vector<std::string> prompts = {"sort: cba", "sort: zx"};
  auto build = [&] {
    absl::StatusOr<Experience> e =
        BuildExperience({&policy, &reference, &reward_model}, prompts, settings,
                        {11, 0}, tokenizer);
    EXPECT_TRUE(e.ok()) << e.status();
    return *std::move(e);
  };
  Experience first = build();
  Experience second = build();
  EXPECT_TRUE(torch::equal(first.sequences.tokens, second.sequences.tokens));
  EXPECT_TRUE(torch::equal(first.old_logprobs, second.old_logprobs));
  EXPECT_TRUE(torch::equal(first.ref_logprobs, second.ref_logprobs));
  EXPECT_TRUE(torch::equal(first.scores, second.scores));
  EXPECT_TRUE(policy->is_training());
  EXPECT_TRUE(reference->is_training());
  EXPECT_TRUE(reward_model->is_training());
  // The eval-mode score, not a train-mode (dropout) one.
  torch::NoGradGuard no_grad;
  reward_model->eval();
  EXPECT_TRUE(torch::equal(
      first.scores,
      reward_model->Score(first.sequences.tokens, first.sequences.mask)));
}

}  // namespace
}  // namespace metarm
