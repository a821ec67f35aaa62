#include "cluster/roles.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace metarm {

std::vector<RankRoles> AssignRoles(const Topology& topology, int world_size) {
  std::vector<RankRoles> roles(world_size);
  if (topology.placement() == COLOCATED) {
    for (int rank = 0; rank < world_size; ++rank) {
      roles[rank] = {true, true, rank, rank};
    }
    return roles;
  }
  std::vector<bool> is_learner(world_size, false);
  if (topology.learner_world_ranks_size() > 0) {
    for (uint32_t rank : topology.learner_world_ranks()) {
      if (rank < static_cast<uint32_t>(world_size)) is_learner[rank] = true;
    }
  } else {
    const int learners =
        std::min<int>(world_size, static_cast<int>(topology.learner_ranks()));
    std::fill(is_learner.begin(), is_learner.begin() + learners, true);
  }
  int learner_index = 0;
  int rollout_index = 0;
  for (int rank = 0; rank < world_size; ++rank) {
    if (is_learner[rank]) {
      roles[rank].learner = true;
      roles[rank].learner_index = learner_index++;
    } else {
      roles[rank].rollout = true;
      roles[rank].rollout_index = rollout_index++;
    }
  }
  return roles;
}

std::string DescribeRoles(const RankRoles& roles) {
  std::string text;
  if (roles.learner) absl::StrAppend(&text, "learner ", roles.learner_index);
  if (roles.learner && roles.rollout) absl::StrAppend(&text, " + ");
  if (roles.rollout) absl::StrAppend(&text, "rollout ", roles.rollout_index);
  return text;
}

absl::StatusOr<ProcessGroups> CreateProcessGroups(
    const Topology& topology, std::unique_ptr<MpiCommunicator> world) {
  ProcessGroups groups;
  groups.roles = AssignRoles(topology, world->size())[world->rank()];
  const RankRoles& roles = groups.roles;
  // Every world rank takes part in both splits (MPI_Comm_split is
  // collective); the key keeps each group in its role-index order.
  METARM_ASSIGN_OR_RETURN(
      std::unique_ptr<MpiCommunicator> learners,
      world->Split(roles.learner ? 0 : MpiCommunicator::kNotInGroup,
                   roles.learner_index, "learners"));
  METARM_ASSIGN_OR_RETURN(
      std::unique_ptr<MpiCommunicator> rollouts,
      world->Split(roles.rollout ? 0 : MpiCommunicator::kNotInGroup,
                   roles.rollout_index, "rollouts"));
  METARM_ASSIGN_OR_RETURN(std::unique_ptr<MpiCommunicator> node,
                          world->SplitByNode());
  auto route = [&](std::unique_ptr<MpiCommunicator> mpi) {
    return mpi == nullptr ? nullptr
                          : std::make_unique<RoutingCommunicator>(
                                std::move(mpi), groups.routing);
  };
  groups.learners = route(std::move(learners));
  groups.rollouts = route(std::move(rollouts));
  groups.node = std::move(node);
  groups.world = route(std::move(world));
  return groups;
}

MpiCommunicator& ProcessGroups::world_mpi() const {
  // CreateProcessGroups puts an MpiCommunicator under every group.
  return static_cast<MpiCommunicator&>(world->host());
}

absl::StatusOr<std::unique_ptr<RoutingCommunicator>> ProcessGroups::SplitWorld(
    int color, int key, std::string name) const {
  METARM_ASSIGN_OR_RETURN(std::unique_ptr<MpiCommunicator> mpi,
                          world_mpi().Split(color, key, std::move(name)));
  if (mpi == nullptr) return nullptr;
  auto group = std::make_unique<RoutingCommunicator>(std::move(mpi), routing);
  METARM_RETURN_IF_ERROR(ConnectDeviceBackend(*group));
  return group;
}

absl::Status ConnectDeviceBackends(ProcessGroups& groups,
                                   const TensorRouting& routing) {
  auto route_all = [&](const TensorRouting& how) -> absl::Status {
    groups.routing = how;
    for (std::unique_ptr<RoutingCommunicator>* group :
         {&groups.world, &groups.learners, &groups.rollouts}) {
      if (*group == nullptr) continue;
      (*group)->set_routing(how);
      METARM_RETURN_IF_ERROR(ConnectDeviceBackend(**group));
    }
    return absl::OkStatus();
  };
  absl::Status connected = route_all(routing);
  // On failure every tensor goes back to MPI, so that the ranks can still
  // agree on the error (comm/status_consensus.h) and stop together.
  if (!connected.ok())
    route_all({TensorBackend::kHost, torch::kCPU}).IgnoreError();
  return connected;
}

}  // namespace metarm
