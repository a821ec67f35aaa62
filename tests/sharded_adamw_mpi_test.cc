// ZeRO stage 1 on real MPI ranks: the sharded AdamW gives the parameters the
// replicated one gives (within 1e-6) for averaged and summed gradients that
// differ on every rank; each rank's optimizer state is 1/N of the
// replicated one's; a state saved sharded by N ranks continues the same run
// when loaded sharded or replicated; a non-finite gradient on one rank is
// seen by all.
#include <torch/torch.h>

#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"
#include "optim/data_parallel_optimizer.h"
#include "optim/optimizer_testing.h"

namespace metarm {
namespace {

std::unique_ptr<DataParallelOptimizer> Make(LanguageModel& model,
                                            Communicator& group, bool shard) {
  auto made = MakeDataParallelAdamW(model->parameters(), TestAdamWOptions(),
                                    group, shard);
  EXPECT_TRUE(made.ok()) << made.status();
  return *std::move(made);
}

int64_t ParameterCount(LanguageModel& model) {
  int64_t count = 0;
  for (const torch::Tensor& p : model->parameters()) count += p.numel();
  return count;
}

class ShardedAdamWTest : public ::testing::TestWithParam<GradientReduction> {
 protected:
  std::unique_ptr<MpiCommunicator> world_ = MpiCommunicator::World();
};

TEST_P(ShardedAdamWTest, MatchesReplicatedWithAShareOfTheState) {
  LanguageModel replicated = SmallModel(11), sharded = SmallModel(11);
  auto whole = Make(replicated, *world_, false);
  auto shard = Make(sharded, *world_, true);
  const int rank = world_->rank();
  TrainSteps(replicated, *whole, rank, 0, 4, GetParam());
  TrainSteps(sharded, *shard, rank, 0, 4, GetParam());
  EXPECT_LE(MaxParameterDifference(replicated, sharded), 1e-6)
      << "rank " << rank;
  // Two float moments per parameter, whole or a 1/N share (padded).
  const int64_t n = ParameterCount(replicated);
  const int64_t share = (n + world_->size() - 1) / world_->size();
  EXPECT_EQ(whole->StateBytes(), 2 * 4 * n);
  EXPECT_EQ(shard->StateBytes(), 2 * 4 * share);
}

// Clipping over shards: the global norm is the replicated one, and so are
// the clipped, scheduled steps.
TEST_P(ShardedAdamWTest, ClipsTheGlobalNormAsReplicated) {
  LanguageModel replicated = SmallModel(13), sharded = SmallModel(13);
  auto whole = Make(replicated, *world_, false);
  auto shard = Make(sharded, *world_, true);
  const int rank = world_->rank();
  const LrSchedule schedule{1e-3, 1, 4, LrDecay::kLinear, 0};
  for (int step = 0; step < 4; ++step) {
    std::vector<double> norms;
    for (auto [model, optimizer] : {std::pair{&replicated, whole.get()},
                                    std::pair{&sharded, shard.get()}}) {
      optimizer->ZeroGrad();
      SeededBackward(*model, 1000 * step + rank);
      ASSERT_TRUE(optimizer->ReduceGradients(GetParam()).ok());
      absl::StatusOr<StepReport> report =
          ScheduledStep(*optimizer, schedule, step, /*max_grad_norm=*/0.005);
      ASSERT_TRUE(report.ok()) << report.status();
      norms.push_back(report->grad_norm);
    }
    EXPECT_NEAR(norms[0], norms[1], 1e-5 * norms[0]) << "step " << step;
    EXPECT_GT(norms[0], 0.005) << "the test must clip";
  }
  EXPECT_LE(MaxParameterDifference(replicated, sharded), 1e-6)
      << "rank " << rank;
}

INSTANTIATE_TEST_SUITE_P(
    AverageAndSum, ShardedAdamWTest,
    ::testing::Values(GradientReduction::kAverage, GradientReduction::kSum),
    [](const ::testing::TestParamInfo<GradientReduction>& info) {
      return info.param == GradientReduction::kSum ? "Sum" : "Average";
    });

TEST(ShardedAdamWCheckpointTest, SavedShardedContinuesEitherWay) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int rank = world->rank();
  LanguageModel model = SmallModel(11);
  auto optimizer = Make(model, *world, true);
  TrainSteps(model, *optimizer, rank, 0, 2, GradientReduction::kAverage);
  // Every rank names the same file (mpirun gives them one TEST_TMPDIR).
  const std::string path =
      std::string(getenv("TEST_TMPDIR")) + "/sharded_state.pt";
  ASSERT_TRUE(optimizer->Save(path).ok());
  ASSERT_TRUE(world->Barrier().ok());
  LanguageModel at_save = CopyOf(model);
  TrainSteps(model, *optimizer, rank, 2, 2, GradientReduction::kAverage);
  for (bool shard : {false, true}) {
    LanguageModel resumed = CopyOf(at_save);
    auto loaded = Make(resumed, *world, shard);
    ASSERT_TRUE(loaded->Load(path, torch::kCPU).ok());
    TrainSteps(resumed, *loaded, rank, 2, 2, GradientReduction::kAverage);
    EXPECT_LE(MaxParameterDifference(resumed, model), 1e-6)
        << "rank " << rank << (shard ? ", loaded sharded" : ", replicated");
  }
}

TEST(ShardedAdamWFiniteTest, OneRanksNanIsSeenByAll) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  LanguageModel model = SmallModel(11);
  auto optimizer = Make(model, *world, true);
  SeededBackward(model, world->rank());
  if (world->rank() == world->size() - 1) {
    model->parameters().back().mutable_grad()[0] = NAN;
  }
  ASSERT_TRUE(optimizer->ReduceGradients(GradientReduction::kSum).ok());
  absl::StatusOr<bool> finite = optimizer->ReducedGradientsFinite();
  ASSERT_TRUE(finite.ok());
  EXPECT_FALSE(*finite) << "rank " << world->rank();
}

}  // namespace
}  // namespace metarm
