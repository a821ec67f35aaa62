#include "comm/block_shapes.h"

#include "absl/strings/str_cat.h"

namespace metarm {

absl::Status CheckBlocks(const Communicator& group, const at::Tensor& whole,
                         const at::Tensor& block, absl::string_view call) {
  if (whole.scalar_type() != block.scalar_type()) {
    return absl::InvalidArgumentError(absl::StrCat(
        call, " on rank ", group.rank(), " of group '", group.name(),
        "': the tensors' dtypes differ (", c10::toString(whole.scalar_type()),
        " and ", c10::toString(block.scalar_type()), ")"));
  }
  if (whole.numel() != group.size() * block.numel()) {
    return absl::InvalidArgumentError(absl::StrCat(
        call, " on rank ", group.rank(), " of group '", group.name(),
        "': the whole tensor has ", whole.numel(), " elements, not ",
        group.size(), " blocks of ", block.numel()));
  }
  return absl::OkStatus();
}

}  // namespace metarm
