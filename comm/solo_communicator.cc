#include "comm/solo_communicator.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "comm/block_shapes.h"
#include "util/status_macros.h"

namespace metarm {

absl::Status SoloCommunicator::CheckRoot(int root) const {
  if (root == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "group ", name_, " has one rank (0); root ", root, " is outside it"));
}

absl::Status SoloCommunicator::NoPeer(int peer) const {
  return absl::InvalidArgumentError(
      absl::StrCat("group ", name_, " has one rank (0); there is no rank ",
                   peer, " to exchange messages with"));
}

absl::Status SoloCommunicator::AllReduce(at::Tensor& tensor, ReduceOp op) {
  // The sum and the average over one rank are the tensor itself; an average
  // still needs a floating-point tensor, as on every backend.
  if (op == ReduceOp::kAverage && !tensor.is_floating_point()) {
    return absl::InvalidArgumentError(
        absl::StrCat("group ", name_,
                     ": AllReduce(kAverage) needs a "
                     "floating-point tensor, got ",
                     at::toString(tensor.scalar_type())));
  }
  return absl::OkStatus();
}

absl::Status SoloCommunicator::ReduceScatter(const at::Tensor& input,
                                             at::Tensor& output, ReduceOp op) {
  METARM_RETURN_IF_ERROR(CheckBlocks(*this, input, output, "ReduceScatter"));
  METARM_RETURN_IF_ERROR(AllReduce(output, op));  // the dtype rule
  output.copy_(input.reshape(output.sizes()));
  return absl::OkStatus();
}

absl::Status SoloCommunicator::AllGather(const at::Tensor& input,
                                         at::Tensor& output) {
  METARM_RETURN_IF_ERROR(CheckBlocks(*this, output, input, "AllGather"));
  output.copy_(input.reshape(output.sizes()));
  return absl::OkStatus();
}

absl::Status SoloCommunicator::Broadcast(at::Tensor& tensor, int root) {
  return CheckRoot(root);
}

absl::Status SoloCommunicator::Send(const at::Tensor& tensor, int destination,
                                    int tag) {
  return NoPeer(destination);
}

absl::Status SoloCommunicator::Recv(at::Tensor& tensor, int source, int tag) {
  return NoPeer(source);
}

absl::Status SoloCommunicator::SendBytes(absl::string_view bytes,
                                         int destination, int tag) {
  return NoPeer(destination);
}

absl::StatusOr<std::string> SoloCommunicator::RecvBytes(int source, int tag) {
  return NoPeer(source);
}

absl::Status SoloCommunicator::BroadcastBytes(std::string& bytes, int root) {
  return CheckRoot(root);
}

}  // namespace metarm
