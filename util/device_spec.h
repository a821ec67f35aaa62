// Which device a rank computes on, as the job (topology.device) or the
// --device flag writes it:
//   "auto"    cuda:<local rank> when this process sees CUDA devices, else cpu
//   "cpu"
//   "cuda"    cuda:<local rank>, and an error without GPUs
//   "cuda:N"  device N on every rank of the node
#ifndef METARM_UTIL_DEVICE_SPEC_H_
#define METARM_UTIL_DEVICE_SPEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metarm {

struct DeviceSpec {
  enum class Kind { kAuto, kCpu, kCuda };
  Kind kind = Kind::kAuto;
  int index = -1;  // kCuda: the device, or -1 for the local rank's
};

// InvalidArgument naming the text and the accepted forms.
absl::StatusOr<DeviceSpec> ParseDeviceSpec(absl::string_view text);

// The device a rank with node-local index `local_rank` takes, where this
// process sees `cuda_devices` CUDA devices: "cpu", or "cuda:N". A CUDA
// request that cannot be met is FailedPrecondition saying why.
absl::StatusOr<std::string> ResolveDevice(const DeviceSpec& spec,
                                          int local_rank, int cuda_devices);

}  // namespace metarm

#endif  // METARM_UTIL_DEVICE_SPEC_H_
