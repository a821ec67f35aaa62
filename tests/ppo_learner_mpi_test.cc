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

torch::Tensor AllParameters(PpoLearner& learner) {
  std::vector<torch::Tensor> parameters = learner.policy()->parameters();
  for (auto& p : learner.critic()->parameters()) parameters.push_back(p);
  return FlattenParameters(parameters);
}

// Two updates of each learner on the same experience give the same
// statistics and parameters within `tolerance`.
void ExpectSameUpdates(PpoLearner& tested, PpoLearner& reference,
                       double tolerance, int rank) {
  const Experience experience = MakeExperience();
  for (int iteration = 0; iteration < 2; ++iteration) {
    absl::StatusOr<PpoStats> a = tested.Update(experience, 10 + iteration);
    absl::StatusOr<PpoStats> b = reference.Update(experience, 10 + iteration);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_NEAR(a->policy_loss, b->policy_loss, tolerance) << "rank " << rank;
    EXPECT_NEAR(a->value_loss, b->value_loss, tolerance) << "rank " << rank;
    EXPECT_NEAR(a->entropy, b->entropy, tolerance) << "rank " << rank;
    EXPECT_NEAR(a->clip_fraction, b->clip_fraction, tolerance);
    EXPECT_NEAR(a->approx_kl, b->approx_kl, tolerance);
    EXPECT_NEAR(a->policy_grad_norm, b->policy_grad_norm, tolerance);
    EXPECT_NEAR(tested.kl_coef(), reference.kl_coef(), tolerance);
    EXPECT_GT(a->value_loss, 0.0);
  }
  EXPECT_LT((AllParameters(tested) - AllParameters(reference))
                .abs()
                .max()
                .item<double>(),
            tolerance)
      << "rank " << rank;
}

TEST(PpoLearnerTest, ShardedEqualsSingleLearner) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int rank = world->rank();
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> self =
      world->Split(rank, 0, "self");
  ASSERT_TRUE(self.ok());
  PpoLearner sharded(Policy(), Critic(), Spec(), *world);
  PpoLearner alone(Policy(), Critic(), Spec(), **self);
  ExpectSameUpdates(sharded, alone, 1e-9, rank);
  EXPECT_EQ(sharded.kl_coef(), alone.kl_coef());
  torch::Tensor mine = AllParameters(sharded);
  torch::Tensor root = mine.clone();
  ASSERT_TRUE(world->Broadcast(root, 0).ok());
  EXPECT_TRUE(torch::equal(root, mine)) << "rank " << rank;
  // The update moved the parameters.
  PpoLearner untouched(Policy(), Critic(), Spec(), **self);
  EXPECT_GT((mine - AllParameters(untouched)).abs().max().item<double>(), 1e-6);
}

// Gradient accumulation: each learner's share of a minibatch in
// micro-batches of 3 rows (8 = 3 + 3 + 2 on one learner, 4 = 3 + 1 on two;
// of 1 row on four) takes the one-learner, one-batch step (float64, 1e-6),
// with gradient clipping on, which reads the accumulated gradient's norm.
TEST(PpoLearnerTest, MicroBatchedEqualsOneBatch) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int rank = world->rank();
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> self =
      world->Split(rank, 0, "self");
  ASSERT_TRUE(self.ok());
  const int64_t share = Spec().minibatch_size() / world->size();
  PpoSpec micro_spec = Spec();
  micro_spec.set_micro_batch_size(share >= 4 ? 3 : 1);
  ASSERT_GT(share, micro_spec.micro_batch_size());
  const PpoSchedules schedules{LrSchedule{1e-3}, LrSchedule{1e-3}, 0.5};
  PpoLearner micro(Policy(), Critic(), micro_spec, *world, false, schedules);
  PpoLearner whole(Policy(), Critic(), Spec(), **self, false, schedules);
  ExpectSameUpdates(micro, whole, 1e-6, rank);
}

// bf16 compute (model/mixed_precision.h), sharded over the ranks, against
// float32 on one learner, from the same weights on the same experience: the
// update's losses, entropy and approximate KL stay within 0.01 of
// float32's over two updates (the value loss is about 0.5 here).
TEST(PpoLearnerTest, Bf16StaysWithinToleranceOfFloat32) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int rank = world->rank();
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> self =
      world->Split(rank, 0, "self");
  ASSERT_TRUE(self.ok());
  auto learner = [&](bool bf16, Communicator& group) {
    TransformerConfig config = Config();
    config.bf16 = bf16;
    torch::manual_seed(1);
    LanguageModel policy(config);
    torch::manual_seed(2);
    ScalarModel critic(config);
    return std::make_unique<PpoLearner>(policy, critic, Spec(), group);
  };
  std::unique_ptr<PpoLearner> bf16 = learner(true, *world);
  std::unique_ptr<PpoLearner> fp32 = learner(false, **self);
  Experience experience = MakeExperience();
  experience.old_logprobs = experience.old_logprobs.to(torch::kFloat32);
  experience.ref_logprobs = experience.ref_logprobs.to(torch::kFloat32);
  experience.scores = experience.scores.to(torch::kFloat32);
  double worst = 0;
  for (int iteration = 0; iteration < 2; ++iteration) {
    absl::StatusOr<PpoStats> a = bf16->Update(experience, 10 + iteration);
    absl::StatusOr<PpoStats> b = fp32->Update(experience, 10 + iteration);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(a->skipped_steps, 0);
    worst = std::max({worst, std::abs(a->policy_loss - b->policy_loss),
                      std::abs(a->value_loss - b->value_loss),
                      std::abs(a->entropy - b->entropy),
                      std::abs(a->approx_kl - b->approx_kl)});
    EXPECT_GT(b->value_loss, 0.0);
  }
  std::cout << "rank " << rank << ": largest bf16 - float32 difference "
            << worst << std::endl;
  EXPECT_LT(worst, 0.01) << "rank " << rank;
  EXPECT_GT(worst, 0) << "bf16 was not used";
  for (const torch::Tensor& p : bf16->policy()->parameters()) {
    EXPECT_EQ(p.scalar_type(), torch::kFloat32) << "master weights";
  }
}

}  // namespace
}  // namespace metarm
