// The communicator interface: collectives and point-to-point transfers of
// tensors and bytes within one group of ranks.
//
//   std::unique_ptr<Communicator> learners = ...;  // e.g. an MpiCommunicator
//   METARM_RETURN_IF_ERROR(learners->AllReduce(grad, ReduceOp::kAverage));
//
// Contract shared by every backend (comm/conformance_suite.h checks it):
// - Every call blocks until the calling rank's part is complete: after
//   AllReduce/Broadcast/Recv return, the tensor holds the result; after Send
//   returns, the tensor may be modified.
// - Collectives must be called by every rank of the group, in the same order,
//   with tensors of the same shape and dtype; ranks that disagree are a bug
//   in the caller, and the backend may hang or fail.
// - Tensors may be non-contiguous: the result is written back in place.
// - Failures return a non-OK status whose message names the call, the rank,
//   the host and the group. Nothing throws. A status error leaves the group
//   unusable; the caller ends the job (MpiEnvironment::AbortJob,
//   comm/mpi_environment.h, as rlhf/rlhf_job.cc does).
#ifndef METARM_COMM_COMMUNICATOR_H_
#define METARM_COMM_COMMUNICATOR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace at {
class Tensor;
}  // namespace at

namespace metarm {

enum class ReduceOp {
  kSum,
  // Sum divided by the group size (floating-point tensors only).
  kAverage,
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  // This rank's index in the group, 0 <= rank() < size().
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The group's name in messages ("world", "learners", ...).
  virtual const std::string& name() const = 0;

  // Replaces `tensor` on every rank with the element-wise reduction over the
  // group. Float, double, int32, int64 and uint8 tensors.
  virtual absl::Status AllReduce(at::Tensor& tensor, ReduceOp op) = 0;

  // Reduce-scatter: `input` holds size() equal blocks of output.numel()
  // elements (its elements in order, block 0 first); rank r's `output`
  // receives block r reduced over the group. `input` and `output` have the
  // same dtype and must not overlap.
  virtual absl::Status ReduceScatter(const at::Tensor& input,
                                     at::Tensor& output, ReduceOp op) = 0;

  // All-gather: `output`, of size() * input.numel() elements, receives every
  // rank's `input`, rank 0's first. Same dtype; no overlap.
  virtual absl::Status AllGather(const at::Tensor& input,
                                 at::Tensor& output) = 0;

  // Copies `tensor` of rank `root` into `tensor` of every other rank; the
  // receivers' tensors must already have the root's shape and dtype.
  virtual absl::Status Broadcast(at::Tensor& tensor, int root) = 0;

  // Sends `tensor` to rank `destination` with a message tag (>= 0); matched
  // by a Recv with the same source and tag.
  virtual absl::Status Send(const at::Tensor& tensor, int destination,
                            int tag) = 0;

  // Receives into `tensor`, which must have exactly the sent element count
  // and dtype (a mismatch is an error naming both counts).
  virtual absl::Status Recv(at::Tensor& tensor, int source, int tag) = 0;

  // Byte messages of any length, for serialized protobuf messages and other
  // metadata (see comm/messages.h).
  virtual absl::Status SendBytes(absl::string_view bytes, int destination,
                                 int tag) = 0;
  virtual absl::StatusOr<std::string> RecvBytes(int source, int tag) = 0;
  // `bytes` of rank `root` replace `bytes` on every rank (any length).
  virtual absl::Status BroadcastBytes(std::string& bytes, int root) = 0;

  // Returns once every rank of the group has called it.
  virtual absl::Status Barrier() = 0;
};

}  // namespace metarm

#endif  // METARM_COMM_COMMUNICATOR_H_
