// The argument check shared by every backend's ReduceScatter and AllGather:
// the whole tensor holds exactly one block per rank, and both tensors have
// the same dtype.
#ifndef METARM_COMM_BLOCK_SHAPES_H_
#define METARM_COMM_BLOCK_SHAPES_H_

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "comm/communicator.h"

namespace metarm {

// OK when whole.numel() == group.size() * block.numel() and the dtypes
// match; otherwise InvalidArgument naming `call`, the group, the rank and
// both element counts.
absl::Status CheckBlocks(const Communicator& group, const at::Tensor& whole,
                         const at::Tensor& block, absl::string_view call);

}  // namespace metarm

#endif  // METARM_COMM_BLOCK_SHAPES_H_
