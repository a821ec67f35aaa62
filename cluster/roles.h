// The role split: which world ranks are learners and which rollout workers,
// and a communicator for each group.
//
//   absl::StatusOr<ProcessGroups> groups =
//       CreateProcessGroups(job.topology(), MpiCommunicator::World());
//   if (groups->roles.learner) Train(*groups->learners);
#ifndef METARM_CLUSTER_ROLES_H_
#define METARM_CLUSTER_ROLES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/mpi_communicator.h"
#include "comm/routing_communicator.h"
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
// World, learner and rollout groups move tensors by `routing`
// (comm/routing_communicator.h): over MPI, and over NCCL for CUDA tensors
// once ConnectDeviceBackends has run.
struct ProcessGroups {
  std::unique_ptr<RoutingCommunicator> world;
  std::unique_ptr<RoutingCommunicator> learners;
  std::unique_ptr<RoutingCommunicator> rollouts;
  // The ranks sharing this rank's node (for the local rank and thread count).
  std::unique_ptr<MpiCommunicator> node;
  RankRoles roles;
  TensorRouting routing;

  // The MPI communicator under `world`, for further splits.
  MpiCommunicator& world_mpi() const;
  // Collective over the world: a group of the ranks passing the same
  // `color` (MpiCommunicator::kNotInGroup: none, null returned), routed and
  // connected like the others.
  absl::StatusOr<std::unique_ptr<RoutingCommunicator>> SplitWorld(
      int color, int key, std::string name) const;
};

// Collective over `world`: splits it into the learner and rollout groups and
// the node-local group. Tensors stay on MPI until ConnectDeviceBackends.
absl::StatusOr<ProcessGroups> CreateProcessGroups(
    const Topology& topology, std::unique_ptr<MpiCommunicator> world);

// Collective over the world: sets `routing` on every group and connects the
// NCCL backends it needs (world, then learners, then rollouts). On failure
// every group is left moving tensors over MPI.
absl::Status ConnectDeviceBackends(ProcessGroups& groups,
                                   const TensorRouting& routing);

}  // namespace metarm

#endif  // METARM_CLUSTER_ROLES_H_
