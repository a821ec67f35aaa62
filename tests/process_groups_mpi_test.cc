// The role split on real MPI ranks: group sizes, membership and collectives
// confined to each group, for SEPARATE and COLOCATED placements.
#include <torch/torch.h>

#include "cluster/roles.h"
#include "gtest/gtest.h"

namespace metarm {
namespace {

int WorldSize() { return MpiCommunicator::World()->size(); }

TEST(ProcessGroupsTest, SeparateSplitsLearnersAndRollouts) {
  const int world = WorldSize();
  if (world < 2) GTEST_SKIP() << "needs two ranks";
  Topology topology;
  topology.set_placement(SEPARATE);
  topology.set_rollout_ranks(1);
  topology.set_learner_ranks(world - 1);
  absl::StatusOr<ProcessGroups> groups =
      CreateProcessGroups(topology, MpiCommunicator::World());
  ASSERT_TRUE(groups.ok()) << groups.status();
  const int rank = groups->world->rank();
  const bool learner = rank < world - 1;
  EXPECT_EQ(groups->roles.learner, learner) << "rank " << rank;
  ASSERT_EQ(groups->learners != nullptr, learner) << "rank " << rank;
  ASSERT_EQ(groups->rollouts != nullptr, !learner) << "rank " << rank;
  if (learner) {
    EXPECT_EQ(groups->learners->size(), world - 1);
    EXPECT_EQ(groups->learners->rank(), rank);
    // A collective within the learners counts only learners.
    at::Tensor one = torch::ones({1});
    ASSERT_TRUE(groups->learners->AllReduce(one, ReduceOp::kSum).ok());
    EXPECT_EQ(one.item<float>(), world - 1.0f) << "rank " << rank;
  } else {
    EXPECT_EQ(groups->rollouts->size(), 1);
    EXPECT_EQ(groups->rollouts->rank(), 0);
  }
  EXPECT_EQ(groups->node->size(), world);  // one machine
}

TEST(ProcessGroupsTest, ExplicitPlacementPutsLearnersWhereAsked) {
  const int world = WorldSize();
  if (world < 2) GTEST_SKIP() << "needs two ranks";
  Topology topology;
  topology.set_placement(SEPARATE);
  topology.set_learner_ranks(1);
  topology.set_rollout_ranks(world - 1);
  topology.add_learner_world_ranks(world - 1);  // the last rank learns
  absl::StatusOr<ProcessGroups> groups =
      CreateProcessGroups(topology, MpiCommunicator::World());
  ASSERT_TRUE(groups.ok()) << groups.status();
  const int rank = groups->world->rank();
  EXPECT_EQ(groups->roles.learner, rank == world - 1) << "rank " << rank;
  if (groups->rollouts != nullptr) {
    EXPECT_EQ(groups->rollouts->size(), world - 1);
    EXPECT_EQ(groups->rollouts->rank(), rank);
  }
}

TEST(ProcessGroupsTest, ColocatedRanksJoinBothGroups) {
  const int world = WorldSize();
  Topology topology;
  topology.set_placement(COLOCATED);
  topology.set_learner_ranks(world);
  topology.set_rollout_ranks(world);
  absl::StatusOr<ProcessGroups> groups =
      CreateProcessGroups(topology, MpiCommunicator::World());
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_NE(groups->learners, nullptr);
  ASSERT_NE(groups->rollouts, nullptr);
  EXPECT_EQ(groups->learners->size(), world);
  EXPECT_EQ(groups->rollouts->size(), world);
}

}  // namespace
}  // namespace metarm
