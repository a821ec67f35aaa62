#include "trainer/placement.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "comm/status_consensus.h"
#include "util/device_spec.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

TensorBackend BackendOf(const Topology& topology) {
  switch (topology.backend()) {
    case MPI:
      return TensorBackend::kHost;
    case NCCL:
      return TensorBackend::kDevice;
    default:
      return TensorBackend::kAuto;
  }
}

absl::StatusOr<torch::Device> ResolveThisRank(const Topology& topology,
                                              int local_rank) {
  METARM_ASSIGN_OR_RETURN(DeviceSpec spec, ParseDeviceSpec(topology.device()));
  absl::StatusOr<std::string> name = ResolveDevice(
      spec, local_rank, static_cast<int>(torch::cuda::device_count()));
  if (!name.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("topology.device: ", name.status().message()));
  }
  return torch::Device(*name);
}

// Collective: FailedPrecondition on every rank when some ranks compute on
// CUDA and others on the CPU.
absl::Status CheckOneDeviceKind(Communicator& world, bool cuda) {
  torch::Tensor on_cuda = torch::tensor({cuda ? 1 : 0}, torch::kInt64);
  METARM_RETURN_IF_ERROR(world.AllReduce(on_cuda, ReduceOp::kSum));
  const int64_t count = on_cuda.item<int64_t>();
  if (count == 0 || count == world.size()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "topology.device: ", count, " of ", world.size(),
      " ranks compute on CUDA and the rest on the CPU; every rank must use "
      "the same kind of device (give every node GPUs, or set device cpu)"));
}

}  // namespace

absl::Status PlaceRank(const Topology& topology, ProcessGroups& groups) {
  absl::StatusOr<torch::Device> device =
      ResolveThisRank(topology, groups.node->rank());
  METARM_RETURN_IF_ERROR(AgreeOnStatus(*groups.world, device.status()));
  METARM_RETURN_IF_ERROR(CheckOneDeviceKind(*groups.world, device->is_cuda()));
  return AgreeOnStatus(
      *groups.world,
      ConnectDeviceBackends(
          groups, {BackendOf(topology), *device,
                   absl::Seconds(topology.collective_timeout_seconds())}));
}

}  // namespace metarm
