// The build without --config=cuda: no NCCL backend.
#include "comm/nccl_communicator.h"

namespace metarm {

bool NcclBackendBuilt() { return false; }

absl::StatusOr<int> CudaDeviceCount() {
  return absl::UnimplementedError("built without --config=cuda");
}

absl::StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(
    Communicator& group, int device, const NcclOptions& options) {
  return absl::UnimplementedError(
      "this build has no NCCL backend: build with --config=cuda "
      "(docs/cluster.md)");
}

}  // namespace metarm
