#include "trainer/layout.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "comm/mpi_environment.h"

namespace metarm {

RankInfo DescribeThisRank(const ProcessGroups& groups, int torch_threads) {
  RankInfo info;
  info.set_world_rank(groups.world->rank());
  info.set_host(MpiEnvironment::HostName());
  info.set_pid(static_cast<int32_t>(::getpid()));
  info.set_local_rank(groups.node->rank());
  info.set_local_size(groups.node->size());
  info.set_roles(DescribeRoles(groups.roles));
  info.set_torch_threads(torch_threads);
  info.set_device(groups.routing.device.str());
  info.set_backend(TensorBackendName(groups.routing.backend));
  return info;
}

std::string FormatLayout(const Job& job, const std::vector<RankInfo>& ranks) {
  const Topology& topology = job.topology();
  std::string out = absl::StrFormat(
      "job \"%s\" (%s): %d ranks, %d learner%s and %d rollout worker%s, %s\n",
      job.name(), JobKind_Name(job.kind()), ranks.size(),
      topology.learner_ranks(), topology.learner_ranks() == 1 ? "" : "s",
      topology.rollout_ranks(), topology.rollout_ranks() == 1 ? "" : "s",
      Placement_Name(topology.placement()));
  if (topology.shard_optimizer_state()) {
    absl::StrAppendFormat(&out,
                          "  optimizer state sharded over %d learner%s "
                          "(ZeRO stage 1)\n",
                          topology.learner_ranks(),
                          topology.learner_ranks() == 1 ? "" : "s");
  }
  absl::StrAppendFormat(&out, "  %-5s %-20s %-6s %-24s %-8s %-8s %-8s %s\n",
                        "rank", "host", "local", "roles", "threads", "device",
                        "tensors", "pid");
  for (const RankInfo& rank : ranks) {
    absl::StrAppendFormat(
        &out, "  %-5d %-20s %-6s %-24s %-8d %-8s %-8s %d\n", rank.world_rank(),
        rank.host(), absl::StrCat(rank.local_rank(), "/", rank.local_size()),
        rank.roles(), rank.torch_threads(), rank.device(), rank.backend(),
        rank.pid());
  }
  return out;
}

}  // namespace metarm
