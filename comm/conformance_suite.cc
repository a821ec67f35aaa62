#include "comm/conformance_suite.h"

#include <torch/torch.h>

#include "comm/messages.h"
#include "comm/status_consensus.h"
#include "comm/test_message.pb.h"

namespace metarm {
namespace {

// Compares element by element; the failure names the rank, the index and
// both values (at most five mismatches, then a count).
void ExpectTensorEq(const at::Tensor& actual, const at::Tensor& expected,
                    int rank) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << "rank " << rank;
  at::Tensor a = actual.to(torch::kFloat64).flatten();
  at::Tensor e = expected.to(torch::kFloat64).flatten();
  int mismatches = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double got = a[i].item<double>();
    const double want = e[i].item<double>();
    if (std::abs(got - want) > 1e-6 * std::max(1.0, std::abs(want))) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << "rank " << rank << " index " << i << ": got " << got
                      << ", want " << want;
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "rank " << rank << ": " << mismatches
                           << " wrong elements of " << a.numel();
}

// 0 + 1 + ... + (size - 1)
int64_t SumOfRanks(int size) { return int64_t{size} * (size - 1) / 2; }

TEST_P(CommunicatorConformanceTest, AllReduceSumFloat) {
  Communicator& c = comm();
  at::Tensor t = torch::arange(1000, torch::kFloat32) + 1000.0 * c.rank();
  ASSERT_TRUE(c.AllReduce(t, ReduceOp::kSum).ok());
  at::Tensor want = torch::arange(1000, torch::kFloat32) * c.size() +
                    1000.0 * SumOfRanks(c.size());
  ExpectTensorEq(t, want, c.rank());
}

TEST_P(CommunicatorConformanceTest, AllReduceSumInt64) {
  Communicator& c = comm();
  at::Tensor t =
      torch::full({3, 5}, int64_t{1} << 40, torch::kInt64) + c.rank();
  ASSERT_TRUE(c.AllReduce(t, ReduceOp::kSum).ok());
  at::Tensor want =
      torch::full({3, 5}, (int64_t{1} << 40) * c.size() + SumOfRanks(c.size()),
                  torch::kInt64);
  EXPECT_TRUE(torch::equal(t, want)) << "rank " << c.rank();
}

TEST_P(CommunicatorConformanceTest, AllReduceAverageDouble) {
  Communicator& c = comm();
  at::Tensor t =
      torch::full({7}, static_cast<double>(c.rank()), torch::kFloat64);
  ASSERT_TRUE(c.AllReduce(t, ReduceOp::kAverage).ok());
  ExpectTensorEq(t, torch::full({7}, (c.size() - 1) / 2.0, torch::kFloat64),
                 c.rank());
}

TEST_P(CommunicatorConformanceTest, AllReduceWritesBackNonContiguous) {
  Communicator& c = comm();
  at::Tensor base = torch::arange(12, torch::kFloat32).reshape({3, 4});
  at::Tensor view = base.t();  // non-contiguous
  ASSERT_FALSE(view.is_contiguous());
  ASSERT_TRUE(c.AllReduce(view, ReduceOp::kSum).ok());
  ExpectTensorEq(base,
                 torch::arange(12, torch::kFloat32).reshape({3, 4}) * c.size(),
                 c.rank());
}

TEST_P(CommunicatorConformanceTest, AllReduceEmptyTensor) {
  Communicator& c = comm();
  at::Tensor t = torch::zeros({0}, torch::kFloat32);
  EXPECT_TRUE(c.AllReduce(t, ReduceOp::kSum).ok());
}

TEST_P(CommunicatorConformanceTest, AverageOfIntegersIsRefused) {
  at::Tensor t = torch::ones({2}, torch::kInt64);
  absl::Status status = comm().AllReduce(t, ReduceOp::kAverage);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

// Rank r's input block b holds 100 * b + r + i at index i.
at::Tensor ScatterInput(int rank, int size, int64_t block) {
  at::Tensor blocks = torch::arange(size, torch::kFloat32).unsqueeze(1) * 100 +
                      torch::arange(block, torch::kFloat32).unsqueeze(0);
  return (blocks + rank).reshape(-1);
}

TEST_P(CommunicatorConformanceTest, ReduceScatterSum) {
  Communicator& c = comm();
  const int64_t block = 37;
  at::Tensor output = torch::zeros({block}, torch::kFloat32);
  ASSERT_TRUE(c.ReduceScatter(ScatterInput(c.rank(), c.size(), block), output,
                              ReduceOp::kSum)
                  .ok());
  at::Tensor want =
      (torch::arange(block, torch::kFloat32) + 100 * c.rank()) * c.size() +
      SumOfRanks(c.size());
  ExpectTensorEq(output, want, c.rank());
}

TEST_P(CommunicatorConformanceTest, ReduceScatterAverageIntoNonContiguous) {
  Communicator& c = comm();
  at::Tensor base = torch::zeros({4, 3}, torch::kFloat64);
  at::Tensor output = base.t();  // 3 x 4, non-contiguous
  at::Tensor input = torch::full({c.size() * 12}, static_cast<double>(c.rank()),
                                 torch::kFloat64);
  ASSERT_TRUE(c.ReduceScatter(input, output, ReduceOp::kAverage).ok());
  ExpectTensorEq(base, torch::full({4, 3}, (c.size() - 1) / 2.0), c.rank());
}

TEST_P(CommunicatorConformanceTest, AllGatherInRankOrder) {
  Communicator& c = comm();
  at::Tensor input =
      torch::arange(6, torch::kInt64).reshape({2, 3}) + 10 * c.rank();
  at::Tensor output = torch::zeros({c.size(), 2, 3}, torch::kInt64);
  ASSERT_TRUE(c.AllGather(input, output).ok());
  at::Tensor want =
      torch::arange(6, torch::kInt64).reshape({1, 2, 3}) +
      10 * torch::arange(c.size(), torch::kInt64).reshape({c.size(), 1, 1});
  EXPECT_TRUE(torch::equal(output, want)) << "rank " << c.rank();
}

TEST_P(CommunicatorConformanceTest, BlocksOfTheWrongSizeAreRefused) {
  Communicator& c = comm();
  at::Tensor whole = torch::zeros({c.size() * 4 + 1});
  at::Tensor block = torch::zeros({4});
  absl::Status scatter = c.ReduceScatter(whole, block, ReduceOp::kSum);
  EXPECT_EQ(scatter.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(scatter.message().find("blocks of 4"), std::string::npos)
      << scatter;
  absl::Status gather = c.AllGather(block, whole);
  EXPECT_EQ(gather.code(), absl::StatusCode::kInvalidArgument);
  at::Tensor doubles = torch::zeros({c.size() * 4}, torch::kFloat64);
  absl::Status dtypes = c.AllGather(block, doubles);
  EXPECT_EQ(dtypes.code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(CommunicatorConformanceTest, BroadcastFromEveryRoot) {
  Communicator& c = comm();
  for (int root = 0; root < c.size(); ++root) {
    at::Tensor t = c.rank() == root ? torch::arange(33, torch::kFloat64) * root
                                    : torch::zeros({33}, torch::kFloat64);
    ASSERT_TRUE(c.Broadcast(t, root).ok());
    ExpectTensorEq(t, torch::arange(33, torch::kFloat64) * root, c.rank());
  }
}

TEST_P(CommunicatorConformanceTest, SendRecvRing) {
  Communicator& c = comm();
  if (c.size() < 2) GTEST_SKIP() << "needs two ranks";
  const int next = (c.rank() + 1) % c.size();
  const int previous = (c.rank() + c.size() - 1) % c.size();
  at::Tensor mine = torch::full({4, 3}, 10.0f * c.rank(), torch::kFloat32);
  at::Tensor theirs = torch::zeros({4, 3}, torch::kFloat32);
  // Even ranks send first and odd ranks receive first, so the ring cannot
  // deadlock whatever the backend buffers.
  if (c.rank() % 2 == 0) {
    ASSERT_TRUE(c.Send(mine, next, 5).ok());
    ASSERT_TRUE(c.Recv(theirs, previous, 5).ok());
  } else {
    ASSERT_TRUE(c.Recv(theirs, previous, 5).ok());
    ASSERT_TRUE(c.Send(mine, next, 5).ok());
  }
  ExpectTensorEq(theirs, torch::full({4, 3}, 10.0f * previous), c.rank());
}

TEST_P(CommunicatorConformanceTest, RecvOfWrongSizeNamesBothCounts) {
  Communicator& c = comm();
  if (c.size() < 2) GTEST_SKIP() << "needs two ranks";
  if (c.rank() == 0) {
    ASSERT_TRUE(c.Send(torch::ones({5}), 1, 9).ok());
  } else if (c.rank() == 1) {
    at::Tensor too_small = torch::zeros({4});
    absl::Status status = c.Recv(too_small, 0, 9);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.message().find("expected 4 elements, the message has 5"),
              std::string::npos)
        << status;
    at::Tensor right = torch::zeros({5});  // drain the message
    ASSERT_TRUE(c.Recv(right, 0, 9).ok());
    ExpectTensorEq(right, torch::ones({5}), c.rank());
  }
  ASSERT_TRUE(c.Barrier().ok());
}

TEST_P(CommunicatorConformanceTest, PeerOutsideTheGroupIsRefused) {
  Communicator& c = comm();
  absl::Status status = c.Send(torch::ones({1}), c.size(), 0);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("is not a rank"), std::string::npos);
}

TEST_P(CommunicatorConformanceTest, BytesOfAnyLength) {
  Communicator& c = comm();
  if (c.size() < 2) GTEST_SKIP() << "needs two ranks";
  for (size_t length : {size_t{0}, size_t{1}, size_t{3} << 20}) {
    std::string payload(length, '\0');
    for (size_t i = 0; i < length; ++i) payload[i] = static_cast<char>(i * 7);
    if (c.rank() == 0) {
      ASSERT_TRUE(c.SendBytes(payload, 1, 3).ok());
    } else if (c.rank() == 1) {
      absl::StatusOr<std::string> got = c.RecvBytes(0, 3);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got == payload, true) << "length " << length;
    }
  }
}

TEST_P(CommunicatorConformanceTest, BroadcastBytes) {
  Communicator& c = comm();
  std::string bytes = c.rank() == 0 ? std::string("hello\0world", 11) : "x";
  ASSERT_TRUE(c.BroadcastBytes(bytes, 0).ok());
  EXPECT_EQ(bytes, std::string("hello\0world", 11)) << "rank " << c.rank();
}

TEST_P(CommunicatorConformanceTest, GatherMessagesInRankOrder) {
  Communicator& c = comm();
  TestMessage info;
  info.set_rank(c.rank());
  info.set_text("h" + std::to_string(c.rank()));
  absl::StatusOr<std::vector<TestMessage>> all = GatherMessages(c, info, 0);
  ASSERT_TRUE(all.ok()) << all.status();
  if (c.rank() != 0) {
    EXPECT_TRUE(all->empty());
    return;
  }
  ASSERT_EQ(static_cast<int>(all->size()), c.size());
  for (int r = 0; r < c.size(); ++r) {
    EXPECT_EQ((*all)[r].rank(), r);
    EXPECT_EQ((*all)[r].text(), "h" + std::to_string(r));
  }
}

TEST_P(CommunicatorConformanceTest, BroadcastMessage) {
  Communicator& c = comm();
  TestMessage info;
  if (c.rank() == 0) info.set_text("from root");
  ASSERT_TRUE(BroadcastMessage(c, &info, 0).ok());
  EXPECT_EQ(info.text(), "from root") << "rank " << c.rank();
}

TEST_P(CommunicatorConformanceTest, AgreeOnStatusTakesTheLowestFailingRank) {
  Communicator& c = comm();
  EXPECT_TRUE(AgreeOnStatus(c, absl::OkStatus()).ok());
  // The last rank fails, and (when there are three or more) the middle one.
  absl::Status mine = absl::OkStatus();
  if (c.rank() == c.size() - 1) mine = absl::NotFoundError("last rank");
  if (c.size() >= 3 && c.rank() == 1) mine = absl::DataLossError("rank 1");
  absl::Status agreed = AgreeOnStatus(c, mine);
  if (c.size() >= 3) {
    EXPECT_EQ(agreed, absl::DataLossError("rank 1")) << "rank " << c.rank();
  } else {
    EXPECT_EQ(agreed, absl::NotFoundError("last rank")) << "rank " << c.rank();
  }
}

TEST_P(CommunicatorConformanceTest, BarrierCompletes) {
  EXPECT_TRUE(comm().Barrier().ok());
}

}  // namespace
}  // namespace metarm
