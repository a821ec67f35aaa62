// A rank that waits for a late peer in any MPI call of the communicator
// sleeps rather than spins (comm/polite_wait.h): rank 0 arrives 1.5 s late,
// and the other ranks' CPU time over the call stays a small fraction of the
// wall time they waited. Before the polite waits, Open MPI's blocking calls
// held a whole core for the whole wait (CPU time = wall time).
#include <time.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"

namespace metarm {
namespace {

constexpr double kLateSeconds = 1.5;

double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

double WallSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs `call` on every rank, rank 0 kLateSeconds after the others, and
// checks on the others that the wait was long and nearly free.
void ExpectPoliteWait(
    const std::string& name,
    const std::function<absl::Status(MpiCommunicator&)>& call) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  ASSERT_TRUE(world->Barrier().ok());
  if (world->rank() == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(kLateSeconds));
    ASSERT_TRUE(call(*world).ok()) << name;
    return;
  }
  const double cpu_before = ProcessCpuSeconds();
  const double wall_before = WallSeconds();
  const absl::Status status = call(*world);
  const double cpu = ProcessCpuSeconds() - cpu_before;
  const double wall = WallSeconds() - wall_before;
  ASSERT_TRUE(status.ok()) << name << ": " << status;
  EXPECT_GT(wall, kLateSeconds - 0.3) << name << ": did not wait for rank 0";
  EXPECT_LT(cpu, 0.2 * wall)
      << name << " on rank " << world->rank() << ": " << cpu
      << " s of CPU time over a " << wall << " s wait (spinning)";
  std::printf("%s, rank %d: waited %.2f s using %.3f s of CPU\n", name.c_str(),
              world->rank(), wall, cpu);
}

class WaitingRankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (MpiCommunicator::World()->size() < 2) GTEST_SKIP() << "needs 2 ranks";
  }
};

TEST_F(WaitingRankTest, AllReduce) {
  ExpectPoliteWait("AllReduce", [](MpiCommunicator& world) {
    at::Tensor ones = torch::ones({1000});
    return world.AllReduce(ones, ReduceOp::kSum);
  });
}

TEST_F(WaitingRankTest, Broadcast) {
  ExpectPoliteWait("Broadcast", [](MpiCommunicator& world) {
    at::Tensor values = torch::zeros({1000});
    return world.Broadcast(values, 0);
  });
}

TEST_F(WaitingRankTest, BroadcastBytes) {
  ExpectPoliteWait("BroadcastBytes", [](MpiCommunicator& world) {
    std::string bytes = world.rank() == 0 ? "job text" : "";
    return world.BroadcastBytes(bytes, 0);
  });
}

TEST_F(WaitingRankTest, Barrier) {
  ExpectPoliteWait("Barrier",
                   [](MpiCommunicator& world) { return world.Barrier(); });
}

TEST_F(WaitingRankTest, AllGatherAndReduceScatter) {
  ExpectPoliteWait("AllGather", [](MpiCommunicator& world) {
    at::Tensor mine = torch::ones({10});
    at::Tensor all = torch::empty({10 * world.size()});
    return world.AllGather(mine, all);
  });
  ExpectPoliteWait("ReduceScatter", [](MpiCommunicator& world) {
    at::Tensor all = torch::ones({10 * world.size()});
    at::Tensor mine = torch::empty({10});
    return world.ReduceScatter(all, mine, ReduceOp::kSum);
  });
}

// Point to point: rank 0 sends to each other rank, late.
TEST_F(WaitingRankTest, RecvAndRecvBytes) {
  ExpectPoliteWait("Recv", [](MpiCommunicator& world) -> absl::Status {
    at::Tensor values = torch::ones({1000});
    if (world.rank() != 0) return world.Recv(values, 0, 7);
    for (int peer = 1; peer < world.size(); ++peer) {
      absl::Status sent = world.Send(values, peer, 7);
      if (!sent.ok()) return sent;
    }
    return absl::OkStatus();
  });
  ExpectPoliteWait("RecvBytes", [](MpiCommunicator& world) -> absl::Status {
    if (world.rank() != 0) return world.RecvBytes(0, 8).status();
    for (int peer = 1; peer < world.size(); ++peer) {
      absl::Status sent = world.SendBytes("experience", peer, 8);
      if (!sent.ok()) return sent;
    }
    return absl::OkStatus();
  });
}

}  // namespace
}  // namespace metarm
