// The role split: which world ranks are learners and which rollout workers,
// and a communicator for each group.
//
//   absl::StatusOr<ProcessGroups> groups =
//       CreateProcessGroups(job.topology(), MpiCommunicator::World());
//   if (groups->roles.learner) Train(*groups->learners);
#ifndef METARM_COMM_ROLES_H_
#define METARM_COMM_ROLES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/mpi_communicator.h"
#include "proto/job.pb.h"

namespace metarm {

// One world rank's roles. A COLOCATED rank is both.
struct RankRoles {
  bool learner = false;
  bool rollout = false;
  int learner_index = -1;  // rank within the learner group, or -1
  int rollout_index = -1;  // rank within the rollout group, or -1
};

// The roles of every world rank under `topology`, indexed by world rank.
// SEPARATE: learners on topology.learner_world_ranks (default the first
// learner_ranks ranks), rollout workers on the rest, each group ordered by
// world rank. COLOCATED: every rank is both. `world_size` must equal
// RequiredWorldSize(topology) (checked earlier, by CheckWorldSize).
std::vector<RankRoles> AssignRoles(const Topology& topology, int world_size);

// A short text such as "learner 1" or "learner 0 + rollout 0".
std::string DescribeRoles(const RankRoles& roles);

// The groups this rank belongs to. `learners` / `rollouts` are null on ranks
// outside that group.
struct ProcessGroups {
  std::unique_ptr<MpiCommunicator> world;
  std::unique_ptr<MpiCommunicator> learners;
  std::unique_ptr<MpiCommunicator> rollouts;
  // The ranks sharing this rank's node (for the local rank and thread count).
  std::unique_ptr<MpiCommunicator> node;
  RankRoles roles;
};

// Collective over `world`: splits it into the learner and rollout groups and
// the node-local group.
absl::StatusOr<ProcessGroups> CreateProcessGroups(
    const Topology& topology, std::unique_ptr<MpiCommunicator> world);

}  // namespace metarm

#endif  // METARM_COMM_ROLES_H_
