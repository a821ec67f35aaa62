// The NCCL backend of the Communicator contract, for CUDA tensors.
//
//   // Collective over `group` (an MPI group of the same ranks):
//   absl::StatusOr<std::unique_ptr<Communicator>> nccl =
//       CreateNcclCommunicator(group, /*device=*/local_rank, options);
//   (*nccl)->AllReduce(cuda_tensor, ReduceOp::kSum);
//
// Rank 0 of `group` creates the NCCL unique id and MPI broadcasts it; every
// rank then joins one NCCL communicator for the group. Collectives run on a
// dedicated CUDA stream, ordered after the work already queued on the compute
// stream (an event the NCCL stream waits for) and before the work queued
// after them (the compute stream waits for an event of the NCCL stream), and
// each call returns when its collective has finished. Every CUDA and NCCL
// call is checked; a failure names the rank, the host, the call, the file and
// the line. A collective that does not finish within `timeout`, or whose
// communicator reports an asynchronous error, aborts the communicator
// (ncclCommAbort) instead of hanging, and returns DeadlineExceeded or
// Internal. Byte messages and barriers go over `group` (MPI): NCCL moves
// tensors only. Point-to-point tags are not used by NCCL: sends and
// receives between two ranks match in the order they are made.
//
// Built only with `--config=cuda` (CUDA and NCCL from /usr/local/cuda, or
// METARM_CUDA_HOME); without it CreateNcclCommunicator returns Unimplemented.
#ifndef METARM_COMM_NCCL_COMMUNICATOR_H_
#define METARM_COMM_NCCL_COMMUNICATOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "comm/communicator.h"

namespace metarm {

struct NcclOptions {
  // How long one collective may take before the communicator is aborted.
  absl::Duration timeout = absl::Minutes(10);
  // The CUDA stream the caller computes on, as a cudaStream_t; null is the
  // default stream, which LibTorch uses unless told otherwise.
  void* compute_stream = nullptr;
};

// Whether this build has the NCCL backend (--config=cuda).
bool NcclBackendBuilt();

// The number of CUDA devices this process sees; the CUDA runtime's error
// (e.g. "CUDA driver version is insufficient" on a machine without a GPU)
// otherwise, and Unimplemented without --config=cuda.
absl::StatusOr<int> CudaDeviceCount();

// Collective over `group`. `device`: the CUDA device this rank uses.
absl::StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(
    Communicator& group, int device, const NcclOptions& options = {});

// The message of a failed CUDA or NCCL call, e.g.
//   "rank 3 (host gpu07): ncclAllReduce(...) failed at
//   comm/nccl_communicator.cc:88: unhandled cuda error"
std::string DescribeCallFailure(int rank, absl::string_view host,
                                absl::string_view call, absl::string_view file,
                                int line, absl::string_view error);

}  // namespace metarm

#endif  // METARM_COMM_NCCL_COMMUNICATOR_H_
