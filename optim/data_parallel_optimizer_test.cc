// Both DataParallelOptimizers over a group of one rank against
// torch::optim::AdamW itself, their checkpoints in each other's hands, and
// the argument checks. The multi-rank equalities are in
// tests/sharded_adamw_mpi_test.cc.
#include "optim/data_parallel_optimizer.h"

#include <cstdio>

#include "comm/solo_communicator.h"
#include "gtest/gtest.h"
#include "optim/adamw_file.h"
#include "optim/optimizer_testing.h"

namespace metarm {
namespace {

// What the same steps give with torch::optim::AdamW on one process.
void TrainWithTorch(LanguageModel& model, torch::optim::AdamW& adam, int first,
                    int steps) {
  for (int step = first; step < first + steps; ++step) {
    adam.zero_grad();
    SeededBackward(model, 1000 * step);
    adam.step();
  }
}

std::string TempPath(const std::string& name) {
  return std::string(getenv("TEST_TMPDIR")) + "/" + name;
}

class DataParallelOptimizerTest : public ::testing::TestWithParam<bool> {
 protected:
  bool sharded() const { return GetParam(); }
  std::unique_ptr<DataParallelOptimizer> Make(LanguageModel& model,
                                              bool shard) {
    auto made = MakeDataParallelAdamW(model->parameters(), TestAdamWOptions(),
                                      solo_, shard);
    EXPECT_TRUE(made.ok()) << made.status();
    return *std::move(made);
  }
  SoloCommunicator solo_;
};

TEST_P(DataParallelOptimizerTest, StepsAsTorchAdamW) {
  LanguageModel model = SmallModel(3), reference = SmallModel(3);
  auto optimizer = Make(model, sharded());
  torch::optim::AdamW adam(reference->parameters(), TestAdamWOptions());
  TrainSteps(model, *optimizer, 0, 0, 3, GradientReduction::kAverage);
  TrainWithTorch(reference, adam, 0, 3);
  // The same element-wise kernels on other offsets: at most a rounding step.
  EXPECT_LE(MaxParameterDifference(model, reference), 1e-7);
  EXPECT_EQ(optimizer->StateBytes(), AdamWStateBytes(adam));
}

// Clipping and the scheduled rate against LibTorch's own
// clip_grad_norm_ and AdamW at that rate, step by step.
TEST_P(DataParallelOptimizerTest, ScheduledClippedStepsAsTorch) {
  LanguageModel model = SmallModel(5), reference = SmallModel(5);
  auto optimizer = Make(model, sharded());
  torch::optim::AdamW adam(reference->parameters(), TestAdamWOptions());
  const LrSchedule schedule{2e-3, 2, 5, LrDecay::kCosine, 0.1};
  const double max_norm = 0.005;
  for (int step = 0; step < 5; ++step) {
    optimizer->ZeroGrad();
    SeededBackward(model, 1000 * step);
    ASSERT_TRUE(optimizer->ReduceGradients(GradientReduction::kAverage).ok());
    absl::StatusOr<StepReport> report =
        ScheduledStep(*optimizer, schedule, step, max_norm);
    ASSERT_TRUE(report.ok()) << report.status();

    adam.zero_grad();
    SeededBackward(reference, 1000 * step);
    const double norm =
        torch::nn::utils::clip_grad_norm_(reference->parameters(), max_norm);
    SetAdamWLearningRate(adam, schedule.At(step));
    adam.step();
    EXPECT_NEAR(report->grad_norm, norm, 1e-5 * norm) << "step " << step;
    EXPECT_GT(norm, max_norm) << "the test must clip";
    EXPECT_DOUBLE_EQ(report->learning_rate, schedule.At(step));
  }
  EXPECT_LE(MaxParameterDifference(model, reference), 1e-6);
}

TEST_P(DataParallelOptimizerTest, NoClippingBelowTheLimit) {
  LanguageModel model = SmallModel(5), reference = SmallModel(5);
  auto optimizer = Make(model, sharded());
  auto plain = Make(reference, sharded());
  for (DataParallelOptimizer* o : {optimizer.get(), plain.get()}) {
    o->ZeroGrad();
  }
  SeededBackward(model, 7);
  SeededBackward(reference, 7);
  ASSERT_TRUE(optimizer->ReduceGradients(GradientReduction::kAverage).ok());
  ASSERT_TRUE(plain->ReduceGradients(GradientReduction::kAverage).ok());
  absl::StatusOr<double> norm = optimizer->ClipGradientNorm(1e9);
  ASSERT_TRUE(norm.ok());
  EXPECT_GT(*norm, 0);
  ASSERT_TRUE(optimizer->Step().ok());
  ASSERT_TRUE(plain->Step().ok());
  EXPECT_EQ(MaxParameterDifference(model, reference), 0);
}

TEST_P(DataParallelOptimizerTest, CheckpointLoadsIntoEitherKind) {
  LanguageModel model = SmallModel(3);
  auto optimizer = Make(model, sharded());
  TrainSteps(model, *optimizer, 0, 0, 2, GradientReduction::kAverage);
  const std::string path = TempPath(sharded() ? "sharded.pt" : "replicated.pt");
  ASSERT_TRUE(optimizer->Save(path).ok());
  // Going on from the file with torch's AdamW is the reference.
  LanguageModel reference = CopyOf(model);
  torch::optim::AdamW adam(reference->parameters(), TestAdamWOptions());
  ASSERT_TRUE(LoadAdamW(adam, path, torch::kCPU).ok());
  TrainWithTorch(reference, adam, 2, 2);
  for (bool load_sharded : {false, true}) {
    LanguageModel resumed = CopyOf(model);
    auto loaded = Make(resumed, load_sharded);
    ASSERT_TRUE(loaded->Load(path, torch::kCPU).ok());
    TrainSteps(resumed, *loaded, 0, 2, 2, GradientReduction::kAverage);
    EXPECT_LE(MaxParameterDifference(resumed, reference), 1e-7)
        << "saved " << (sharded() ? "sharded" : "replicated") << ", loaded "
        << (load_sharded ? "sharded" : "replicated");
  }
}

TEST_P(DataParallelOptimizerTest, NonFiniteGradientsAreSeen) {
  LanguageModel model = SmallModel(3);
  auto optimizer = Make(model, sharded());
  SeededBackward(model, 0);
  ASSERT_TRUE(optimizer->ReduceGradients(GradientReduction::kSum).ok());
  EXPECT_TRUE(*optimizer->ReducedGradientsFinite());
  model->parameters()[1].mutable_grad()[0] = NAN;
  ASSERT_TRUE(optimizer->ReduceGradients(GradientReduction::kSum).ok());
  EXPECT_FALSE(*optimizer->ReducedGradientsFinite());
}

TEST_P(DataParallelOptimizerTest, LoadNamesABadFile) {
  LanguageModel model = SmallModel(3);
  auto optimizer = Make(model, sharded());
  const std::string path = TempPath("not_a_state.pt");
  std::FILE* file = std::fopen(path.c_str(), "w");
  std::fputs("garbage", file);
  std::fclose(file);
  absl::Status status = optimizer->Load(path, torch::kCPU);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
}

INSTANTIATE_TEST_SUITE_P(ReplicatedAndSharded, DataParallelOptimizerTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Sharded" : "Replicated";
                         });

TEST(MakeDataParallelAdamWTest, ShardingNeedsOneDtypeAndNoAmsgrad) {
  SoloCommunicator solo;
  std::vector<torch::Tensor> mixed = {torch::zeros({2}),
                                      torch::zeros({2}, torch::kFloat64)};
  auto refused = MakeDataParallelAdamW(mixed, TestAdamWOptions(), solo, true);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("parameter 1 is Double"),
            std::string::npos)
      << refused.status();
  EXPECT_TRUE(
      MakeDataParallelAdamW(mixed, TestAdamWOptions(), solo, false).ok());
  EXPECT_FALSE(MakeDataParallelAdamW({torch::zeros({2})},
                                     TestAdamWOptions().amsgrad(true), solo,
                                     true)
                   .ok());
}

}  // namespace
}  // namespace metarm
