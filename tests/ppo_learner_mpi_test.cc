// The PPO update on real MPI ranks: N learners sharing each minibatch take the
// step one learner takes alone (float64, to 1e-9), and end with identical
// parameters.
#include <torch/torch.h>

#include "comm/gradient_sync.h"
#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"
#include "ppo/ppo_learner.h"
#include "proto/job_defaults.h"

namespace metarm {
namespace {

constexpr int64_t kBatch = 16;
constexpr int64_t kPrompt = 5;
constexpr int64_t kResponse = 6;

TransformerConfig Config() {
  TransformerConfig config;
  config.vocab_size = 11;
  config.d_model = 16;
  config.n_layers = 1;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 16;
  return config;
}

LanguageModel Policy() {
  torch::manual_seed(1);
  LanguageModel policy(Config());
  policy->to(torch::kFloat64);
  return policy;
}

ScalarModel Critic() {
  torch::manual_seed(2);
  ScalarModel critic(Config());
  critic->to(torch::kFloat64);
  return critic;
}

// The same batch on every rank: left-padded prompts, right-padded responses,
// old log-probabilities from the policy itself.
Experience MakeExperience() {
  torch::manual_seed(3);
  Experience e;
  torch::Tensor prompt_mask = torch::ones({kBatch, kPrompt}, torch::kInt64);
  prompt_mask.narrow(1, 0, 2).bernoulli_(0.5);
  torch::Tensor response_mask = torch::ones({kBatch, kResponse}, torch::kInt64);
  for (int64_t row = 0; row < kBatch; ++row) {
    const int64_t length = 1 + row % kResponse;
    response_mask[row].narrow(0, length, kResponse - length).zero_();
  }
  torch::Tensor tokens = torch::randint(3, 11, {kBatch, kPrompt + kResponse});
  torch::Tensor mask = torch::cat({prompt_mask, response_mask}, 1);
  e.sequences = {tokens * mask, mask};
  e.prompt_columns = kPrompt;
  e.response_mask = response_mask;
  LanguageModel policy = Policy();
  torch::NoGradGuard no_grad;
  e.old_logprobs =
      ResponseLogprobs(policy, e.sequences, kPrompt).first * response_mask;
  e.ref_logprobs = (e.old_logprobs + 0.1 * torch::randn_like(e.old_logprobs)) *
                   response_mask;
  e.scores = torch::randn({kBatch}, torch::kFloat64);
  return e;
}

PpoSpec Spec() {
  Job job;
  ApplyJobDefaults(&job);
  PpoSpec spec = job.ppo();
  spec.set_minibatch_size(8);
  spec.set_epochs(2);
  spec.set_policy_learning_rate(1e-3);
  spec.set_value_learning_rate(1e-3);
  spec.set_entropy_coef(0.01);
  spec.set_kl_target(1.0);  // adaptive: the controller must match too
  return spec;
}

TEST(PpoLearnerTest, ShardedEqualsSingleLearner) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int rank = world->rank();
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> self =
      world->Split(rank, 0, "self");
  ASSERT_TRUE(self.ok());
  PpoLearner sharded(Policy(), Critic(), Spec(), *world);
  PpoLearner alone(Policy(), Critic(), Spec(), **self);
  const Experience experience = MakeExperience();
  for (int iteration = 0; iteration < 2; ++iteration) {
    absl::StatusOr<PpoStats> a = sharded.Update(experience, 10 + iteration);
    absl::StatusOr<PpoStats> b = alone.Update(experience, 10 + iteration);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_NEAR(a->policy_loss, b->policy_loss, 1e-9) << "rank " << rank;
    EXPECT_NEAR(a->value_loss, b->value_loss, 1e-9) << "rank " << rank;
    EXPECT_NEAR(a->clip_fraction, b->clip_fraction, 1e-9);
    EXPECT_EQ(sharded.kl_coef(), alone.kl_coef());
    EXPECT_GT(a->value_loss, 0.0);
  }
  auto all_parameters = [](PpoLearner& learner) {
    std::vector<torch::Tensor> parameters = learner.policy()->parameters();
    for (auto& p : learner.critic()->parameters()) parameters.push_back(p);
    return FlattenParameters(parameters);
  };
  torch::Tensor mine = all_parameters(sharded);
  torch::Tensor reference = all_parameters(alone);
  EXPECT_LT((mine - reference).abs().max().item<double>(), 1e-9)
      << "rank " << rank;
  torch::Tensor root = mine.clone();
  ASSERT_TRUE(world->Broadcast(root, 0).ok());
  EXPECT_TRUE(torch::equal(root, mine)) << "rank " << rank;
  // The update moved the parameters.
  PpoLearner untouched(Policy(), Critic(), Spec(), **self);
  EXPECT_GT((mine - all_parameters(untouched)).abs().max().item<double>(),
            1e-6);
}

}  // namespace
}  // namespace metarm
