// Data-parallel reward-model training on real MPI ranks: every learner ends
// every step with identical parameters, and N learners sharing a global batch
// match one learner with the whole batch (within 1e-5), for VANILLA and
// METARM.
#include <torch/torch.h>

#include "comm/gradient_sync.h"
#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"
#include "reward/reward_trainer.h"

namespace metarm {
namespace {

constexpr int64_t kPairs = 8;        // global n
constexpr int64_t kMetaPrompts = 4;  // global m
constexpr int64_t kResponses = 3;    // k

TransformerConfig TinyConfig() {
  TransformerConfig config;
  config.vocab_size = 13;
  config.d_model = 16;
  config.n_layers = 2;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 12;
  return config;
}

// Identical on every rank: the same seed gives the same sequences.
std::vector<TokenSequence> Sequences(int64_t rows, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<TokenSequence> sequences;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = 3 + (r * 5 + seed) % 8;
    torch::Tensor t = torch::randint(13, {n}, torch::kInt64);
    sequences.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
  }
  return sequences;
}

std::vector<TokenSequence> Slice(const std::vector<TokenSequence>& all,
                                 int64_t begin, int64_t count) {
  return {all.begin() + begin, all.begin() + begin + count};
}

// Step `step`'s batches, the shard of `rank` among `group` learners.
std::pair<PreferenceBatch, MetaBatch> Shard(int step, int rank, int group) {
  auto chosen = Sequences(kPairs, 1000 + step);
  auto rejected = Sequences(kPairs, 2000 + step);
  auto meta = Sequences(kMetaPrompts * kResponses, 3000 + step);
  auto [pair_begin, pair_count] = ShardRange(kPairs, rank, group);
  auto [meta_begin, meta_count] = ShardRange(kMetaPrompts, rank, group);
  PreferenceBatch pairs{
      PadSequences(Slice(chosen, pair_begin, pair_count), Padding::kLeft),
      PadSequences(Slice(rejected, pair_begin, pair_count), Padding::kLeft)};
  MetaBatch meta_batch{PadSequences(Slice(meta, meta_begin * kResponses,
                                          meta_count * kResponses),
                                    Padding::kLeft),
                       kResponses};
  return {pairs, meta_batch};
}

// In double precision: some gradients are zero in exact arithmetic (the
// attention's key bias, by softmax's shift invariance) and float32 rounding
// noise there depends on how the batch was split; Adam divides by |g| + eps
// and turns that noise into steps of size lr. In float64 the noise is ~1e-17
// and the comparison tests the sharding, not the rounding.
ScalarModel InitialModel() {
  torch::manual_seed(42);
  ScalarModel model(TinyConfig());
  model->to(torch::kFloat64);
  return model;
}

class RewardDataParallelTest
    : public ::testing::TestWithParam<RewardObjective> {
 protected:
  std::unique_ptr<MpiCommunicator> world_ = MpiCommunicator::World();
};

TEST_P(RewardDataParallelTest, ShardedEqualsSingleLearner) {
  const int rank = world_->rank();
  const int size = world_->size();
  if (kPairs % size != 0 || kMetaPrompts % size != 0) {
    GTEST_SKIP() << "batch does not split over " << size << " learners";
  }
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> self =
      world_->Split(rank, 0, "self");
  ASSERT_TRUE(self.ok()) << self.status();

  RewardTrainerOptions options;
  options.mode = GetParam();
  options.eta = 0.5;
  options.learning_rate = 3e-3;
  RewardTrainer sharded(InitialModel(), options, *world_);
  RewardTrainer whole(InitialModel(), options, **self);

  for (int step = 0; step < 4; ++step) {
    auto [pairs, meta] = Shard(step, rank, size);
    absl::StatusOr<RewardStepStats> sharded_stats = sharded.Step(pairs, &meta);
    ASSERT_TRUE(sharded_stats.ok()) << sharded_stats.status();
    auto [all_pairs, all_meta] = Shard(step, 0, 1);
    absl::StatusOr<RewardStepStats> whole_stats =
        whole.Step(all_pairs, &all_meta);
    ASSERT_TRUE(whole_stats.ok());
    EXPECT_NEAR(sharded_stats->loss, whole_stats->loss, 1e-5)
        << "rank " << rank << " step " << step;
    EXPECT_NEAR(sharded_stats->objective, whole_stats->objective, 1e-5)
        << "rank " << rank << " step " << step;

    // Identical parameters on every learner: compare with rank 0's, exactly.
    torch::Tensor mine = FlattenParameters(sharded.model()->parameters());
    torch::Tensor root = mine.clone();
    ASSERT_TRUE(world_->Broadcast(root, 0).ok());
    EXPECT_TRUE(torch::equal(mine, root))
        << "rank " << rank << " step " << step << ": parameters differ from "
        << "rank 0's, max |diff| " << (mine - root).abs().max().item<double>();

    torch::Tensor reference = FlattenParameters(whole.model()->parameters());
    const double difference = (mine - reference).abs().max().item<double>();
    EXPECT_LT(difference, 1e-5) << "rank " << rank << " step " << step;
  }
}

// Gradient accumulation: each learner's pairs in micro-batches of 3 (8 = 3
// + 3 + 2 on one learner, 4 = 3 + 1 on two, 2 whole on four) and its meta
// prompts one at a time (so ∇J, ∇L(θ') and METARM_EXACT's H_J·∇L(θ') are
// each accumulated) take the one-learner, one-batch step: the same
// statistics and parameters within 1e-6 in float64.
TEST_P(RewardDataParallelTest, MicroBatchedEqualsOneBatch) {
  const int rank = world_->rank();
  const int size = world_->size();
  if (kPairs % size != 0 || kMetaPrompts % size != 0) {
    GTEST_SKIP() << "batch does not split over " << size << " learners";
  }
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> self =
      world_->Split(rank, 0, "self");
  ASSERT_TRUE(self.ok()) << self.status();
  RewardTrainerOptions options;
  options.mode = GetParam();
  options.eta = 0.5;
  options.learning_rate = 3e-3;
  options.max_grad_norm = 0.5;  // reads the accumulated gradient's norm
  RewardTrainerOptions micro_options = options;
  micro_options.micro_batch_size = 3;
  micro_options.meta_micro_batch_size = 1;
  RewardTrainer micro(InitialModel(), micro_options, *world_);
  RewardTrainer whole(InitialModel(), options, **self);
  for (int step = 0; step < 3; ++step) {
    auto [pairs, meta] = Shard(step, rank, size);
    absl::StatusOr<RewardStepStats> a = micro.Step(pairs, &meta);
    auto [all_pairs, all_meta] = Shard(step, 0, 1);
    absl::StatusOr<RewardStepStats> b = whole.Step(all_pairs, &all_meta);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    for (const RewardStatField& f : kRewardStatFields) {
      EXPECT_NEAR((*a).*f.member, (*b).*f.member, 1e-6)
          << f.step_key << ", rank " << rank << " step " << step;
    }
    torch::Tensor difference = FlattenParameters(micro.model()->parameters()) -
                               FlattenParameters(whole.model()->parameters());
    EXPECT_LT(difference.abs().max().item<double>(), 1e-6)
        << "rank " << rank << " step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, RewardDataParallelTest,
                         ::testing::Values(RewardObjective::kVanilla,
                                           RewardObjective::kMetaRm,
                                           RewardObjective::kMetaRmExact,
                                           RewardObjective::kGapRegularized),
                         [](const auto& info) {
                           return std::string(RewardObjectiveName(info.param));
                         });

}  // namespace
}  // namespace metarm
