// The NCCL backend (built with --config=cuda); see nccl_communicator.h.
#include "comm/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>
#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "comm/block_shapes.h"
#include "comm/host_name.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

// Every CUDA and NCCL call goes through these: a failure becomes a status
// naming the rank, host, call, file and line.
#define METARM_CUDA_CHECK(rank, call)                                 \
  do {                                                                \
    const cudaError_t error_ = (call);                                \
    if (error_ != cudaSuccess) {                                      \
      return absl::InternalError(                                     \
          DescribeCallFailure(rank, LocalHostName(), #call, __FILE__, \
                              __LINE__, cudaGetErrorString(error_))); \
    }                                                                 \
  } while (false)

#define METARM_NCCL_CHECK(rank, call)                                  \
  do {                                                                 \
    const ncclResult_t result_ = (call);                               \
    if (result_ != ncclSuccess && result_ != ncclInProgress) {         \
      return absl::InternalError(                                      \
          DescribeCallFailure(rank, LocalHostName(), #call, __FILE__,  \
                              __LINE__, ncclGetErrorString(result_))); \
    }                                                                  \
  } while (false)

absl::StatusOr<ncclDataType_t> NcclType(const at::Tensor& tensor) {
  switch (tensor.scalar_type()) {
    case at::kFloat:
      return ncclFloat32;
    case at::kDouble:
      return ncclFloat64;
    case at::kHalf:
      return ncclFloat16;
    case at::kBFloat16:
      return ncclBfloat16;
    case at::kInt:
      return ncclInt32;
    case at::kLong:
      return ncclInt64;
    case at::kByte:
      return ncclUint8;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("NCCL backend: unsupported dtype ",
                       at::toString(tensor.scalar_type())));
  }
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(Communicator& group, int device, const NcclOptions& options)
      : group_(group),
        device_(device),
        options_(options),
        name_(absl::StrCat(group.name(), "/nccl")) {}

  ~NcclCommunicator() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    for (cudaEvent_t event : {before_, after_}) {
      if (event != nullptr) cudaEventDestroy(event);
    }
  }

  absl::Status Init() {
    const int rank = group_.rank();
    METARM_CUDA_CHECK(rank, cudaSetDevice(device_));
    METARM_CUDA_CHECK(
        rank, cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    METARM_CUDA_CHECK(
        rank, cudaEventCreateWithFlags(&before_, cudaEventDisableTiming));
    METARM_CUDA_CHECK(
        rank, cudaEventCreateWithFlags(&after_, cudaEventDisableTiming));
    // Rank 0 makes the id; MPI carries it to the others.
    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    if (rank == 0) METARM_NCCL_CHECK(rank, ncclGetUniqueId(&id));
    std::string bytes(reinterpret_cast<const char*>(&id), sizeof(id));
    METARM_RETURN_IF_ERROR(group_.BroadcastBytes(bytes, 0));
    std::memcpy(&id, bytes.data(), sizeof(id));
    // Non-blocking initialisation, so that a rank that never arrives ends in
    // the timeout below rather than a hang.
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    METARM_NCCL_CHECK(
        rank, ncclCommInitRankConfig(&comm_, group_.size(), id, rank, &config));
    return WaitForComm("ncclCommInitRankConfig");
  }

  int rank() const override { return group_.rank(); }
  int size() const override { return group_.size(); }
  const std::string& name() const override { return name_; }

  absl::Status AllReduce(at::Tensor& tensor, ReduceOp op) override {
    METARM_ASSIGN_OR_RETURN(ncclDataType_t type, CheckTensor(tensor));
    const ncclRedOp_t nccl_op = op == ReduceOp::kAverage ? ncclAvg : ncclSum;
    return RunCollective("ncclAllReduce", [&] {
      return ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           type, nccl_op, comm_, stream_);
    });
  }

  absl::Status ReduceScatter(const at::Tensor& input, at::Tensor& output,
                             ReduceOp op) override {
    METARM_RETURN_IF_ERROR(CheckBlocks(*this, input, output, "ReduceScatter"));
    METARM_RETURN_IF_ERROR(CheckTensor(input).status());
    METARM_ASSIGN_OR_RETURN(ncclDataType_t type, CheckTensor(output));
    const ncclRedOp_t nccl_op = op == ReduceOp::kAverage ? ncclAvg : ncclSum;
    return RunCollective("ncclReduceScatter", [&] {
      return ncclReduceScatter(input.data_ptr(), output.data_ptr(),
                               output.numel(), type, nccl_op, comm_, stream_);
    });
  }

  absl::Status AllGather(const at::Tensor& input, at::Tensor& output) override {
    METARM_RETURN_IF_ERROR(CheckBlocks(*this, output, input, "AllGather"));
    METARM_RETURN_IF_ERROR(CheckTensor(input).status());
    METARM_ASSIGN_OR_RETURN(ncclDataType_t type, CheckTensor(output));
    return RunCollective("ncclAllGather", [&] {
      return ncclAllGather(input.data_ptr(), output.data_ptr(), input.numel(),
                           type, comm_, stream_);
    });
  }

  absl::Status Broadcast(at::Tensor& tensor, int root) override {
    METARM_ASSIGN_OR_RETURN(ncclDataType_t type, CheckTensor(tensor));
    return RunCollective("ncclBroadcast", [&] {
      return ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           type, root, comm_, stream_);
    });
  }

  absl::Status Send(const at::Tensor& tensor, int destination,
                    int tag) override {
    METARM_ASSIGN_OR_RETURN(ncclDataType_t type, CheckTensor(tensor));
    return RunCollective("ncclSend", [&] {
      return ncclSend(tensor.data_ptr(), tensor.numel(), type, destination,
                      comm_, stream_);
    });
  }

  absl::Status Recv(at::Tensor& tensor, int source, int tag) override {
    METARM_ASSIGN_OR_RETURN(ncclDataType_t type, CheckTensor(tensor));
    return RunCollective("ncclRecv", [&] {
      return ncclRecv(tensor.data_ptr(), tensor.numel(), type, source, comm_,
                      stream_);
    });
  }

  absl::Status SendBytes(absl::string_view bytes, int destination,
                         int tag) override {
    return group_.SendBytes(bytes, destination, tag);
  }
  absl::StatusOr<std::string> RecvBytes(int source, int tag) override {
    return group_.RecvBytes(source, tag);
  }
  absl::Status BroadcastBytes(std::string& bytes, int root) override {
    return group_.BroadcastBytes(bytes, root);
  }
  absl::Status Barrier() override { return group_.Barrier(); }

 private:
  absl::StatusOr<ncclDataType_t> CheckTensor(const at::Tensor& tensor) {
    if (comm_ == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "NCCL backend (", name_, "): the communicator was aborted"));
    }
    if (!tensor.is_cuda() || !tensor.is_contiguous()) {
      return absl::InvalidArgumentError(
          absl::StrCat("NCCL backend (", name_,
                       "): tensors must be contiguous CUDA "
                       "tensors; got ",
                       tensor.toString()));
    }
    return NcclType(tensor);
  }

  // Orders `launch` (an NCCL call on stream_) after the compute stream's
  // queued work and the compute stream's later work after it, then waits for
  // it under the watchdog.
  template <typename Launch>
  absl::Status RunCollective(const char* call, Launch launch) {
    const int rank = group_.rank();
    auto compute = static_cast<cudaStream_t>(options_.compute_stream);
    METARM_CUDA_CHECK(rank, cudaEventRecord(before_, compute));
    METARM_CUDA_CHECK(rank, cudaStreamWaitEvent(stream_, before_, 0));
    METARM_NCCL_CHECK(rank, launch());
    // Non-blocking communicator: wait until the call is enqueued.
    METARM_RETURN_IF_ERROR(WaitForComm(call));
    METARM_CUDA_CHECK(rank, cudaEventRecord(after_, stream_));
    METARM_CUDA_CHECK(rank, cudaStreamWaitEvent(compute, after_, 0));
    return WaitForEvent(call);
  }

  // Polls the communicator's state until it is ready, aborting it on an
  // asynchronous error or after the timeout.
  absl::Status WaitForComm(const char* call) {
    const auto deadline = Deadline();
    while (true) {
      ncclResult_t state = ncclSuccess;
      METARM_NCCL_CHECK(group_.rank(), ncclCommGetAsyncError(comm_, &state));
      if (state == ncclSuccess) return absl::OkStatus();
      if (state != ncclInProgress)
        return Abort(call, ncclGetErrorString(state));
      if (std::chrono::steady_clock::now() > deadline) {
        return Abort(call, "timed out");
      }
      std::this_thread::yield();
    }
  }

  // Waits for the collective's event, watching for asynchronous errors.
  absl::Status WaitForEvent(const char* call) {
    const auto deadline = Deadline();
    while (true) {
      const cudaError_t done = cudaEventQuery(after_);
      if (done == cudaSuccess) return absl::OkStatus();
      if (done != cudaErrorNotReady) {
        return Abort(call, cudaGetErrorString(done));
      }
      ncclResult_t state = ncclSuccess;
      ncclCommGetAsyncError(comm_, &state);
      if (state != ncclSuccess && state != ncclInProgress) {
        return Abort(call, ncclGetErrorString(state));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return Abort(call, "timed out");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  std::chrono::steady_clock::time_point Deadline() const {
    return std::chrono::steady_clock::now() +
           absl::ToChronoMilliseconds(options_.timeout);
  }

  absl::Status Abort(const char* call, absl::string_view why) {
    ncclCommAbort(comm_);  // frees the communicator; peers see an error
    comm_ = nullptr;
    const std::string message = DescribeCallFailure(
        group_.rank(), LocalHostName(), call, __FILE__, __LINE__, why);
    return why == "timed out" ? absl::DeadlineExceededError(absl::StrCat(
                                    message, " (after ",
                                    absl::FormatDuration(options_.timeout),
                                    "; the communicator was aborted)"))
                              : absl::InternalError(message);
  }

  Communicator& group_;
  int device_;
  NcclOptions options_;
  std::string name_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t before_ = nullptr;
  cudaEvent_t after_ = nullptr;
};

}  // namespace

bool NcclBackendBuilt() { return true; }

absl::StatusOr<int> CudaDeviceCount() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    return absl::UnavailableError(cudaGetErrorString(error));
  }
  return count;
}

absl::StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(
    Communicator& group, int device, const NcclOptions& options) {
  auto nccl = std::make_unique<NcclCommunicator>(group, device, options);
  METARM_RETURN_IF_ERROR(nccl->Init());
  return std::unique_ptr<Communicator>(std::move(nccl));
}

}  // namespace metarm
