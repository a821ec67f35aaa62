#include "cluster/threads.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(ThreadsPerRankTest, SharesUnboundCoresEvenly) {
  EXPECT_EQ(ThreadsPerRank(2, 2, 1), 2);
  EXPECT_EQ(ThreadsPerRank(2, 2, 2), 1);
  EXPECT_EQ(ThreadsPerRank(16, 16, 4), 4);
  EXPECT_EQ(ThreadsPerRank(16, 16, 3), 5);
}

TEST(ThreadsPerRankTest, NeverBelowOne) {
  EXPECT_EQ(ThreadsPerRank(2, 2, 3), 1);
  EXPECT_EQ(ThreadsPerRank(2, 2, 0), 2);
}

TEST(ThreadsPerRankTest, BoundRankUsesItsOwnCores) {
  EXPECT_EQ(ThreadsPerRank(16, 4, 4), 4);
  EXPECT_EQ(ThreadsPerRank(16, 1, 2), 1);
}

TEST(ThreadsTest, CoreCountsArePositive) {
  EXPECT_GE(MachineCores(), 1);
  EXPECT_GE(AffinityCores(), 1);
  EXPECT_LE(AffinityCores(), MachineCores());
}

}  // namespace
}  // namespace metarm
