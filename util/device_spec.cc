#include "util/device_spec.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace metarm {

absl::StatusOr<DeviceSpec> ParseDeviceSpec(absl::string_view text) {
  DeviceSpec spec;
  if (text == "auto" || text.empty()) return spec;
  if (text == "cpu") {
    spec.kind = DeviceSpec::Kind::kCpu;
    return spec;
  }
  if (text == "cuda") {
    spec.kind = DeviceSpec::Kind::kCuda;
    return spec;
  }
  int index = -1;
  if (absl::StartsWith(text, "cuda:") &&
      absl::SimpleAtoi(text.substr(5), &index) && index >= 0 &&
      text.substr(5).find_first_not_of("0123456789") ==
          absl::string_view::npos) {
    spec.kind = DeviceSpec::Kind::kCuda;
    spec.index = index;
    return spec;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "device \"", text, "\": expected auto, cpu, cuda or cuda:N"));
}

absl::StatusOr<std::string> ResolveDevice(const DeviceSpec& spec,
                                          int local_rank, int cuda_devices) {
  if (spec.kind == DeviceSpec::Kind::kCpu) return std::string("cpu");
  if (spec.kind == DeviceSpec::Kind::kAuto && cuda_devices == 0) {
    return std::string("cpu");
  }
  if (cuda_devices == 0) {
    return absl::FailedPreconditionError(
        "device cuda: this process sees no CUDA device (a CPU-only LibTorch, "
        "no GPU on the node, or CUDA_VISIBLE_DEVICES empty)");
  }
  // One GPU per rank: NCCL refuses two ranks of a communicator on one
  // device, so a node with fewer GPUs than ranks is an error, not a share.
  const int index = spec.index >= 0 ? spec.index : local_rank;
  if (index >= cuda_devices) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device cuda:", index, ": this process sees ", cuda_devices,
        " CUDA device(s)",
        spec.index >= 0 ? ""
                        : absl::StrCat(" and is local rank ", local_rank,
                                       "; start at most one rank per GPU "
                                       "(e.g. srun --gpus-per-task=1) or set "
                                       "topology.device")));
  }
  return absl::StrCat("cuda:", index);
}

}  // namespace metarm
