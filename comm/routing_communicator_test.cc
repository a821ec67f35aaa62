// Routing decisions, checked with two one-rank groups whose names tell which
// one carried a message (a Send in a group of one fails naming its group).
#include "comm/routing_communicator.h"

#include <torch/torch.h>

#include "comm/solo_communicator.h"
#include "gtest/gtest.h"

namespace metarm {
namespace {

RoutingCommunicator Routed(TensorBackend backend, bool with_device) {
  RoutingCommunicator group(std::make_unique<SoloCommunicator>("host"),
                            {backend, torch::kCPU});
  if (with_device) {
    group.SetDeviceBackend(std::make_unique<SoloCommunicator>("device"));
  }
  return group;
}

// Which one-rank group a Send went to.
std::string Carrier(RoutingCommunicator& group, const torch::Tensor& t) {
  std::string message(group.Send(t, 1, 0).message());
  if (message.find("group host") != std::string::npos) return "host";
  if (message.find("group device") != std::string::npos) return "device";
  return message;
}

TEST(RoutingCommunicatorTest, AutoSendsCpuTensorsOverTheHost) {
  RoutingCommunicator group = Routed(TensorBackend::kAuto, true);
  EXPECT_EQ(Carrier(group, torch::ones({3})), "host");
}

TEST(RoutingCommunicatorTest, ForcedBackendsCarryEveryTensor) {
  RoutingCommunicator host = Routed(TensorBackend::kHost, true);
  EXPECT_EQ(Carrier(host, torch::ones({3})), "host");
  RoutingCommunicator device = Routed(TensorBackend::kDevice, true);
  EXPECT_EQ(Carrier(device, torch::ones({3})), "device");
}

TEST(RoutingCommunicatorTest, BytesAndBarriersStayOnTheHost) {
  RoutingCommunicator group = Routed(TensorBackend::kDevice, true);
  absl::Status sent = group.SendBytes("x", 1, 0);
  EXPECT_NE(sent.message().find("group host"), std::string::npos);
  EXPECT_EQ(group.name(), "host");
}

TEST(RoutingCommunicatorTest, CollectivesGiveTheBackendsResult) {
  RoutingCommunicator group = Routed(TensorBackend::kDevice, true);
  torch::Tensor t = torch::arange(4, torch::kFloat32).reshape({2, 2}).t();
  ASSERT_TRUE(group.AllReduce(t, ReduceOp::kAverage).ok());
  EXPECT_TRUE(
      torch::equal(t, torch::arange(4, torch::kFloat32).reshape({2, 2}).t()));
}

TEST(RoutingCommunicatorTest, ForcedDeviceBackendMustBeConnected) {
  RoutingCommunicator group = Routed(TensorBackend::kDevice, false);
  torch::Tensor t = torch::ones({2});
  absl::Status status = group.AllReduce(t, ReduceOp::kSum);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("not connected"), std::string::npos);
}

TEST(RoutingCommunicatorTest, NcclOnACpuDeviceIsRefusedWithTheReason) {
  RoutingCommunicator group = Routed(TensorBackend::kDevice, false);
  absl::Status status = ConnectDeviceBackend(group);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("device is cpu"), std::string::npos)
      << status;
}

TEST(RoutingCommunicatorTest, AutoOnACpuDeviceNeedsNoDeviceBackend) {
  RoutingCommunicator group = Routed(TensorBackend::kAuto, false);
  ASSERT_TRUE(ConnectDeviceBackend(group).ok());
  EXPECT_FALSE(group.has_device_backend());
  torch::Tensor t = torch::ones({2});
  EXPECT_TRUE(group.AllReduce(t, ReduceOp::kSum).ok());
}

TEST(RoutingCommunicatorTest, ParsesBackendNames) {
  EXPECT_EQ(*ParseTensorBackend("auto"), TensorBackend::kAuto);
  EXPECT_EQ(*ParseTensorBackend("mpi"), TensorBackend::kHost);
  EXPECT_EQ(*ParseTensorBackend("nccl"), TensorBackend::kDevice);
  EXPECT_EQ(TensorBackendName(TensorBackend::kDevice), "nccl");
  absl::StatusOr<TensorBackend> bad = ParseTensorBackend("gloo");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("gloo"), std::string::npos);
}

}  // namespace
}  // namespace metarm
