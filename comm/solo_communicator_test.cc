#include "comm/solo_communicator.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(SoloCommunicatorTest, CollectivesOverOneRankLeaveTheTensor) {
  SoloCommunicator solo;
  EXPECT_EQ(solo.size(), 1);
  torch::Tensor t = torch::arange(6, torch::kFloat32);
  ASSERT_TRUE(solo.AllReduce(t, ReduceOp::kAverage).ok());
  ASSERT_TRUE(solo.AllReduce(t, ReduceOp::kSum).ok());
  ASSERT_TRUE(solo.Broadcast(t, 0).ok());
  EXPECT_TRUE(torch::equal(t, torch::arange(6, torch::kFloat32)));
  std::string bytes = "id";
  ASSERT_TRUE(solo.BroadcastBytes(bytes, 0).ok());
  EXPECT_EQ(bytes, "id");
  EXPECT_TRUE(solo.Barrier().ok());
}

TEST(SoloCommunicatorTest, ScatterAndGatherOverOneRankCopy) {
  SoloCommunicator solo;
  torch::Tensor whole = torch::arange(6, torch::kFloat32);
  torch::Tensor block = torch::zeros({2, 3});
  ASSERT_TRUE(solo.ReduceScatter(whole, block, ReduceOp::kAverage).ok());
  EXPECT_TRUE(torch::equal(block, whole.view({2, 3})));
  torch::Tensor gathered = torch::zeros({6});
  ASSERT_TRUE(solo.AllGather(block, gathered).ok());
  EXPECT_TRUE(torch::equal(gathered, whole));
  torch::Tensor wrong = torch::zeros({5});
  EXPECT_FALSE(solo.AllGather(block, wrong).ok());
  torch::Tensor counts = torch::ones({2}, torch::kInt64);
  torch::Tensor count_block = torch::zeros({2}, torch::kInt64);
  EXPECT_FALSE(
      solo.ReduceScatter(counts, count_block, ReduceOp::kAverage).ok());
}

TEST(SoloCommunicatorTest, RefusesWhatNeedsAnotherRank) {
  SoloCommunicator solo("learners");
  torch::Tensor t = torch::ones({2});
  absl::Status sent = solo.Send(t, 1, 0);
  EXPECT_EQ(sent.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(sent.message().find("learners"), std::string::npos);
  EXPECT_FALSE(solo.Recv(t, 1, 0).ok());
  EXPECT_FALSE(solo.RecvBytes(1, 0).ok());
  EXPECT_FALSE(solo.Broadcast(t, 1).ok());
  torch::Tensor counts = torch::ones({2}, torch::kInt64);
  EXPECT_FALSE(solo.AllReduce(counts, ReduceOp::kAverage).ok());
}

}  // namespace
}  // namespace metarm
