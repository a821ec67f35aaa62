// SFT steps on real MPI ranks: N learners, each with its share of the batch
// in micro-batches, take the step one learner takes with the whole batch at
// once (float64, within 1e-6): the same loss, gradient norm and parameters.
#include <torch/torch.h>

#include "comm/gradient_sync.h"
#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"
#include "rlhf/sft.h"

namespace metarm {
namespace {

constexpr int64_t kBatch = 8;

LanguageModel Policy() {
  TransformerConfig config;
  config.vocab_size = 11;
  config.d_model = 16;
  config.n_layers = 2;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 16;
  torch::manual_seed(5);
  LanguageModel policy(config);
  policy->to(torch::kFloat64);
  return policy;
}

// Step `step`'s global batch (the same on every rank): left-padded
// sequences of ragged lengths whose last tokens are the trained response.
SftBatch GlobalBatch(int step) {
  torch::manual_seed(100 + step);
  std::vector<TokenSequence> sequences, targets;
  for (int64_t row = 0; row < kBatch; ++row) {
    const int64_t length = 4 + (row * 3 + step) % 9;
    const int64_t response = 1 + row % 4;
    torch::Tensor t = torch::randint(1, 11, {length}, torch::kInt64);
    sequences.emplace_back(t.data_ptr<int64_t>(),
                           t.data_ptr<int64_t>() + length);
    TokenSequence target(length - response, 0);
    target.resize(length, 1);
    targets.push_back(target);
  }
  return {PadSequences(sequences, Padding::kLeft),
          PadSequences(targets, Padding::kLeft).tokens};
}

SftBatch Share(const SftBatch& batch, int rank, int size) {
  const int64_t share = kBatch / size;
  return {batch.sequences.Rows(rank * share, share),
          batch.target_mask.narrow(0, rank * share, share)};
}

TEST(SftStepTest, MicroBatchedShardsEqualOneBatch) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int rank = world->rank();
  const int size = world->size();
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> self =
      world->Split(rank, 0, "self");
  ASSERT_TRUE(self.ok()) << self.status();
  const int64_t share = kBatch / size;
  LanguageModel micro_policy = Policy();
  LanguageModel whole_policy = Policy();
  auto micro_optimizer = MakeModelAdamW(
      micro_policy->parameters(), torch::optim::AdamWOptions(1e-2), *world,
      /*shard_state=*/false);
  auto whole_optimizer = MakeModelAdamW(whole_policy->parameters(),
                                        torch::optim::AdamWOptions(1e-2),
                                        **self, /*shard_state=*/false);
  // Micro-batches of 3 rows (8 = 3 + 3 + 2 on one learner, 4 = 3 + 1 on
  // two), of 1 row on four; clipping reads the accumulated gradient's norm.
  const SftOptions micro{LrSchedule{1e-2}, 0.5, share >= 4 ? 3 : 1};
  const SftOptions whole{LrSchedule{1e-2}, 0.5, 0};
  for (int step = 0; step < 3; ++step) {
    const SftBatch batch = GlobalBatch(step);
    absl::StatusOr<SftStepResult> a =
        SftStep(micro_policy, *micro_optimizer, Share(batch, rank, size),
                *world, micro, step);
    absl::StatusOr<SftStepResult> b =
        SftStep(whole_policy, *whole_optimizer, batch, **self, whole, step);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_NEAR(a->loss, b->loss, 1e-6) << "rank " << rank << " step " << step;
    EXPECT_NEAR(a->step.grad_norm, b->step.grad_norm, 1e-6)
        << "rank " << rank << " step " << step;
    EXPECT_GT(b->step.grad_norm, 0.5) << "clipping is exercised";
    torch::Tensor difference = FlattenParameters(micro_policy->parameters()) -
                               FlattenParameters(whole_policy->parameters());
    EXPECT_LT(difference.abs().max().item<double>(), 1e-6)
        << "rank " << rank << " step " << step;
  }
  // The steps moved the parameters.
  EXPECT_GT((FlattenParameters(whole_policy->parameters()) -
             FlattenParameters(Policy()->parameters()))
                .abs()
                .max()
                .item<double>(),
            1e-4);
}

}  // namespace
}  // namespace metarm
