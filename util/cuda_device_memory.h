// How much memory a CUDA device has, asked of the CUDA driver
// (libcuda.so.1) at run time, so that the memory plan can be checked
// against a GPU before anything is allocated on it. The driver is loaded
// with dlopen: CPU-only builds and machines need no CUDA at all, and
// LibTorch's CPU headers have no such query.
//
//   absl::StatusOr<double> bytes = CudaDeviceTotalBytes(0);
#ifndef METARM_UTIL_CUDA_DEVICE_MEMORY_H_
#define METARM_UTIL_CUDA_DEVICE_MEMORY_H_

#include "absl/status/statusor.h"

namespace metarm {

// The total memory of CUDA device `index` (as CUDA_VISIBLE_DEVICES numbers
// them), in bytes. Unavailable when there is no driver or no such device.
absl::StatusOr<double> CudaDeviceTotalBytes(int index);

}  // namespace metarm

#endif  // METARM_UTIL_CUDA_DEVICE_MEMORY_H_
