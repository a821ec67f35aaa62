#include "cluster/roles.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(AssignRolesTest, SeparateDefaultPutsLearnersFirst) {
  Topology topology;
  topology.set_placement(SEPARATE);
  topology.set_learner_ranks(2);
  topology.set_rollout_ranks(2);
  std::vector<RankRoles> roles = AssignRoles(topology, 4);
  ASSERT_EQ(roles.size(), 4u);
  EXPECT_TRUE(roles[0].learner && !roles[0].rollout);
  EXPECT_EQ(roles[1].learner_index, 1);
  EXPECT_TRUE(roles[2].rollout && !roles[2].learner);
  EXPECT_EQ(roles[2].rollout_index, 0);
  EXPECT_EQ(roles[3].rollout_index, 1);
  EXPECT_EQ(DescribeRoles(roles[3]), "rollout 1");
}

TEST(AssignRolesTest, ExplicitLearnerRanks) {
  Topology topology;
  topology.set_placement(SEPARATE);
  topology.set_learner_ranks(2);
  topology.set_rollout_ranks(1);
  topology.add_learner_world_ranks(2);
  topology.add_learner_world_ranks(1);
  std::vector<RankRoles> roles = AssignRoles(topology, 3);
  EXPECT_TRUE(roles[0].rollout);
  EXPECT_EQ(roles[0].rollout_index, 0);
  // Learner indices follow world-rank order, whatever the list's order.
  EXPECT_EQ(roles[1].learner_index, 0);
  EXPECT_EQ(roles[2].learner_index, 1);
}

TEST(AssignRolesTest, ColocatedRanksHaveBothRoles) {
  Topology topology;
  topology.set_placement(COLOCATED);
  topology.set_learner_ranks(2);
  topology.set_rollout_ranks(2);
  std::vector<RankRoles> roles = AssignRoles(topology, 2);
  EXPECT_TRUE(roles[1].learner && roles[1].rollout);
  EXPECT_EQ(roles[1].rollout_index, 1);
  EXPECT_EQ(DescribeRoles(roles[0]), "learner 0 + rollout 0");
}

}  // namespace
}  // namespace metarm
