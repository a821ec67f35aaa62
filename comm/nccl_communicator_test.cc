// What can be checked of the NCCL backend on any machine: the failure
// messages, the build-without-CUDA answer, and, with --config=cuda on a
// machine with a GPU and a CUDA LibTorch, a one-rank communicator. Checks
// that need what the machine lacks are skipped with the reason.
#include "comm/nccl_communicator.h"

#include <torch/torch.h>

#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(NcclCommunicatorTest, FailureMessagesNameRankHostCallFileAndLine) {
  EXPECT_EQ(DescribeCallFailure(3, "gpu07", "ncclAllReduce(...)",
                                "comm/nccl_communicator.cc", 88,
                                "unhandled cuda error"),
            "rank 3 (host gpu07): ncclAllReduce(...) failed at "
            "comm/nccl_communicator.cc:88: unhandled cuda error");
}

TEST(NcclCommunicatorTest, WithoutCudaTheBuildSaysHowToGetIt) {
  if (NcclBackendBuilt()) GTEST_SKIP() << "built with --config=cuda";
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  absl::StatusOr<std::unique_ptr<Communicator>> nccl =
      CreateNcclCommunicator(*world, 0);
  ASSERT_FALSE(nccl.ok());
  EXPECT_EQ(nccl.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(nccl.status().message().find("--config=cuda"), std::string::npos);
}

TEST(NcclCommunicatorTest, OneRankAllReduceAndBroadcastOnAGpu) {
  if (!NcclBackendBuilt()) GTEST_SKIP() << "built without --config=cuda";
  absl::StatusOr<int> devices = CudaDeviceCount();
  if (!devices.ok() || *devices == 0) {
    GTEST_SKIP() << "no GPU here: "
                 << (devices.ok() ? "0 devices" : devices.status().ToString());
  }
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "this LibTorch has no CUDA (set METARM_LIBTORCH)";
  }
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  absl::StatusOr<std::unique_ptr<Communicator>> nccl =
      CreateNcclCommunicator(*world, 0);
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  torch::Tensor x = torch::arange(6, torch::kFloat32).cuda();
  ASSERT_TRUE((*nccl)->AllReduce(x, ReduceOp::kSum).ok());
  EXPECT_TRUE(torch::equal(x.cpu(), torch::arange(6, torch::kFloat32)));
  ASSERT_TRUE((*nccl)->Broadcast(x, 0).ok());
  torch::Tensor cpu = torch::ones({2});
  EXPECT_EQ((*nccl)->AllReduce(cpu, ReduceOp::kSum).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace metarm
