#include "comm/mpi_communicator.h"

#include <torch/torch.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "comm/block_shapes.h"
#include "comm/mpi_environment.h"
#include "comm/polite_wait.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

// MPI counts are ints: longer buffers go in chunks of at most this many
// elements (or bytes).
constexpr int64_t kMaxChunk = INT_MAX / 2;

absl::StatusOr<MPI_Datatype> MpiTypeOf(c10::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return MPI_FLOAT;
    case torch::kFloat64:
      return MPI_DOUBLE;
    case torch::kInt32:
      return MPI_INT32_T;
    case torch::kInt64:
      return MPI_INT64_T;
    case torch::kUInt8:
      return MPI_UINT8_T;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "the MPI backend does not move ", c10::toString(type), " tensors"));
  }
}

// Calls `op(pointer, count)` for consecutive chunks of `total` elements of
// `element_size` bytes starting at `data`; stops at the first error.
template <typename Op>
absl::Status ForEachChunk(void* data, int64_t total, size_t element_size,
                          Op op) {
  char* bytes = static_cast<char*>(data);
  for (int64_t offset = 0; offset < total || (total == 0 && offset == 0);
       offset += kMaxChunk) {
    const int count = static_cast<int>(std::min(kMaxChunk, total - offset));
    absl::Status status = op(bytes + offset * element_size, count);
    if (!status.ok() || total == 0) return status;
  }
  return absl::OkStatus();
}

bool IsFloating(const at::Tensor& tensor) {
  return at::isFloatingType(tensor.scalar_type());
}

}  // namespace

std::unique_ptr<MpiCommunicator> MpiCommunicator::World() {
  return std::unique_ptr<MpiCommunicator>(
      new MpiCommunicator(MPI_COMM_WORLD, "world", /*owned=*/false));
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, std::string name, bool owned)
    : comm_(comm), name_(std::move(name)), owned_(owned) {
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owned_ && !finalized) MPI_Comm_free(&comm_);
}

absl::Status MpiCommunicator::Check(int mpi_result,
                                    absl::string_view call) const {
  if (mpi_result == MPI_SUCCESS) return absl::OkStatus();
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(mpi_result, text, &length);
  return absl::InternalError(absl::StrCat(
      call, " failed on rank ", rank_, " of group '", name_, "' (host ",
      MpiEnvironment::HostName(), "): ", std::string(text, length)));
}

absl::Status MpiCommunicator::CheckPeer(int peer, const char* what) const {
  if (peer >= 0 && peer < size_) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " ", peer, " is not a rank of group '", name_,
                   "' (size ", size_, "), called on rank ", rank_));
}

absl::Status MpiCommunicator::AwaitAll(const char* call) const {
  // A barrier waited for politely, then the call itself: once every rank has
  // reached the call, its blocking MPI function does not wait long.
  MPI_Request request = MPI_REQUEST_NULL;
  METARM_RETURN_IF_ERROR(Check(MPI_Ibarrier(comm_, &request),
                               absl::StrCat(call, " (MPI_Ibarrier)")));
  return Check(WaitPolitely(&request, MPI_STATUS_IGNORE),
               absl::StrCat(call, " (waiting in MPI_Ibarrier)"));
}

absl::Status MpiCommunicator::AwaitMessage(int source, int tag,
                                           MPI_Status* status) const {
  return Check(ProbePolitely(source, tag, comm_, status), "MPI_Iprobe");
}

CallWatchdog::Guard MpiCommunicator::Watch(const char* call,
                                           const char* peer_relation,
                                           int peer) const {
  if (watchdog_ == nullptr) return CallWatchdog::Guard(nullptr, 0);
  return watchdog_->Watch(absl::StrCat(
      call, peer >= 0 ? absl::StrCat(" ", peer_relation, " rank ", peer) : "",
      " on group '", name_, "' (rank ", rank_, " of ", size_, ")"));
}

absl::StatusOr<std::unique_ptr<MpiCommunicator>> MpiCommunicator::Split(
    int color, int key, std::string name) {
  MPI_Comm split = MPI_COMM_NULL;
  METARM_RETURN_IF_ERROR(
      Check(MPI_Comm_split(comm_, color == kNotInGroup ? MPI_UNDEFINED : color,
                           key, &split),
            "MPI_Comm_split"));
  if (split == MPI_COMM_NULL) return std::unique_ptr<MpiCommunicator>();
  std::unique_ptr<MpiCommunicator> group(
      new MpiCommunicator(split, std::move(name), /*owned=*/true));
  group->SetWatchdog(watchdog_);
  return group;
}

absl::StatusOr<std::unique_ptr<MpiCommunicator>>
MpiCommunicator::SplitByNode() {
  MPI_Comm node = MPI_COMM_NULL;
  METARM_RETURN_IF_ERROR(Check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED,
                                                   rank_, MPI_INFO_NULL, &node),
                               "MPI_Comm_split_type"));
  std::unique_ptr<MpiCommunicator> group(
      new MpiCommunicator(node, name_ + "/node", /*owned=*/true));
  group->SetWatchdog(watchdog_);
  return group;
}

absl::Status MpiCommunicator::AllReduce(at::Tensor& tensor, ReduceOp op) {
  const CallWatchdog::Guard watch = Watch("MPI_Allreduce");
  METARM_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(tensor.scalar_type()));
  if (op == ReduceOp::kAverage && !IsFloating(tensor)) {
    return absl::InvalidArgumentError(
        "AllReduce average needs a floating-point tensor");
  }
  METARM_RETURN_IF_ERROR(AwaitAll("MPI_Allreduce"));
  at::Tensor buffer = tensor.contiguous();
  METARM_RETURN_IF_ERROR(ForEachChunk(
      buffer.data_ptr(), buffer.numel(), buffer.element_size(),
      [&](void* chunk, int count) {
        return Check(
            MPI_Allreduce(MPI_IN_PLACE, chunk, count, type, MPI_SUM, comm_),
            "MPI_Allreduce");
      }));
  if (op == ReduceOp::kAverage) buffer.div_(size_);
  if (!buffer.is_same(tensor)) tensor.copy_(buffer);
  return absl::OkStatus();
}

absl::Status MpiCommunicator::ReduceScatter(const at::Tensor& input,
                                            at::Tensor& output, ReduceOp op) {
  const CallWatchdog::Guard watch = Watch("MPI_Reduce_scatter_block");
  METARM_RETURN_IF_ERROR(CheckBlocks(*this, input, output, "ReduceScatter"));
  METARM_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(output.scalar_type()));
  if (op == ReduceOp::kAverage && !IsFloating(output)) {
    return absl::InvalidArgumentError(
        "ReduceScatter average needs a floating-point tensor");
  }
  const int64_t block = output.numel();
  if (block == 0) return absl::OkStatus();
  METARM_RETURN_IF_ERROR(AwaitAll("MPI_Reduce_scatter_block"));
  at::Tensor blocks = input.contiguous().view({size_, block});
  at::Tensor result = output.contiguous();
  // Each chunk reduces the same columns of every rank's block; a column
  // range is contiguous (no copy) unless the block needs several chunks.
  for (int64_t offset = 0; offset < block; offset += kMaxChunk) {
    const int64_t count = std::min(kMaxChunk, block - offset);
    at::Tensor send = blocks.narrow(1, offset, count).contiguous();
    at::Tensor receive = result.view(-1).narrow(0, offset, count);
    METARM_RETURN_IF_ERROR(Check(
        MPI_Reduce_scatter_block(send.data_ptr(), receive.data_ptr(),
                                 static_cast<int>(count), type, MPI_SUM, comm_),
        "MPI_Reduce_scatter_block"));
  }
  if (op == ReduceOp::kAverage) result.div_(size_);
  if (!result.is_same(output)) output.copy_(result);
  return absl::OkStatus();
}

absl::Status MpiCommunicator::AllGather(const at::Tensor& input,
                                        at::Tensor& output) {
  const CallWatchdog::Guard watch = Watch("MPI_Allgather");
  METARM_RETURN_IF_ERROR(CheckBlocks(*this, output, input, "AllGather"));
  METARM_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(input.scalar_type()));
  const int64_t block = input.numel();
  if (block == 0) return absl::OkStatus();
  METARM_RETURN_IF_ERROR(AwaitAll("MPI_Allgather"));
  at::Tensor send = input.contiguous().view(-1);
  at::Tensor result = output.contiguous();
  at::Tensor blocks = result.view({size_, block});
  for (int64_t offset = 0; offset < block; offset += kMaxChunk) {
    const int64_t count = std::min(kMaxChunk, block - offset);
    // One chunk of every rank's block; received in place when the block is
    // a single chunk, else through a buffer of the chunk's columns.
    at::Tensor columns = blocks.narrow(1, offset, count);
    at::Tensor receive =
        columns.is_contiguous() ? columns : torch::empty_like(columns);
    METARM_RETURN_IF_ERROR(
        Check(MPI_Allgather(send.narrow(0, offset, count).data_ptr(),
                            static_cast<int>(count), type, receive.data_ptr(),
                            static_cast<int>(count), type, comm_),
              "MPI_Allgather"));
    if (!receive.is_same(columns)) columns.copy_(receive);
  }
  if (!result.is_same(output)) output.copy_(result.view_as(output));
  return absl::OkStatus();
}

absl::Status MpiCommunicator::Broadcast(at::Tensor& tensor, int root) {
  const CallWatchdog::Guard watch = Watch("MPI_Bcast", "from", root);
  METARM_RETURN_IF_ERROR(CheckPeer(root, "broadcast root"));
  METARM_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(tensor.scalar_type()));
  METARM_RETURN_IF_ERROR(AwaitAll("MPI_Bcast"));
  at::Tensor buffer = tensor.contiguous();
  METARM_RETURN_IF_ERROR(ForEachChunk(
      buffer.data_ptr(), buffer.numel(), buffer.element_size(),
      [&](void* chunk, int count) {
        return Check(MPI_Bcast(chunk, count, type, root, comm_), "MPI_Bcast");
      }));
  if (!buffer.is_same(tensor)) tensor.copy_(buffer);
  return absl::OkStatus();
}

absl::Status MpiCommunicator::Send(const at::Tensor& tensor, int destination,
                                   int tag) {
  const CallWatchdog::Guard watch = Watch("MPI_Send", "to", destination);
  METARM_RETURN_IF_ERROR(CheckPeer(destination, "destination"));
  METARM_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(tensor.scalar_type()));
  at::Tensor buffer = tensor.contiguous();
  return ForEachChunk(
      buffer.data_ptr(), buffer.numel(), buffer.element_size(),
      [&](void* chunk, int count) {
        return Check(MPI_Send(chunk, count, type, destination, tag, comm_),
                     "MPI_Send");
      });
}

absl::Status MpiCommunicator::Recv(at::Tensor& tensor, int source, int tag) {
  const CallWatchdog::Guard watch = Watch("MPI_Recv", "from", source);
  METARM_RETURN_IF_ERROR(CheckPeer(source, "source"));
  METARM_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(tensor.scalar_type()));
  at::Tensor buffer = tensor.is_contiguous() ? tensor : tensor.contiguous();
  METARM_RETURN_IF_ERROR(ForEachChunk(
      buffer.data_ptr(), buffer.numel(), buffer.element_size(),
      [&](void* chunk, int count) -> absl::Status {
        // Probe first so a size mismatch is reported with both counts
        // instead of MPI's truncation error.
        MPI_Status probe;
        METARM_RETURN_IF_ERROR(AwaitMessage(source, tag, &probe));
        int incoming = 0;
        MPI_Get_count(&probe, type, &incoming);
        if (incoming != count) {
          return absl::InvalidArgumentError(absl::StrCat(
              "Recv on rank ", rank_, " of group '", name_, "' from rank ",
              source, " (tag ", tag, "): expected ", count,
              " elements, the message has ", incoming));
        }
        return Check(
            MPI_Recv(chunk, count, type, source, tag, comm_, MPI_STATUS_IGNORE),
            "MPI_Recv");
      }));
  if (!buffer.is_same(tensor)) tensor.copy_(buffer);
  return absl::OkStatus();
}

absl::Status MpiCommunicator::SendBytes(absl::string_view bytes,
                                        int destination, int tag) {
  const CallWatchdog::Guard watch = Watch("MPI_Send", "to", destination);
  METARM_RETURN_IF_ERROR(CheckPeer(destination, "destination"));
  // A length header, then the bytes in chunks: lengths beyond INT_MAX work.
  uint64_t length = bytes.size();
  absl::Status status = Check(
      MPI_Send(&length, 1, MPI_UINT64_T, destination, tag, comm_), "MPI_Send");
  if (!status.ok() || length == 0) return status;
  return ForEachChunk(
      const_cast<char*>(bytes.data()), length, 1, [&](void* chunk, int count) {
        return Check(MPI_Send(chunk, count, MPI_BYTE, destination, tag, comm_),
                     "MPI_Send");
      });
}

absl::StatusOr<std::string> MpiCommunicator::RecvBytes(int source, int tag) {
  const CallWatchdog::Guard watch = Watch("MPI_Recv", "from", source);
  METARM_RETURN_IF_ERROR(CheckPeer(source, "source"));
  uint64_t length = 0;
  MPI_Status header;
  METARM_RETURN_IF_ERROR(AwaitMessage(source, tag, &header));
  METARM_RETURN_IF_ERROR(Check(
      MPI_Recv(&length, 1, MPI_UINT64_T, source, tag, comm_, MPI_STATUS_IGNORE),
      "MPI_Recv"));
  std::string bytes(length, '\0');
  if (length == 0) return bytes;
  METARM_RETURN_IF_ERROR(
      ForEachChunk(bytes.data(), length, 1, [&](void* chunk, int count) {
        return Check(MPI_Recv(chunk, count, MPI_BYTE, source, tag, comm_,
                              MPI_STATUS_IGNORE),
                     "MPI_Recv");
      }));
  return bytes;
}

absl::Status MpiCommunicator::BroadcastBytes(std::string& bytes, int root) {
  const CallWatchdog::Guard watch = Watch("MPI_Bcast", "from", root);
  METARM_RETURN_IF_ERROR(CheckPeer(root, "broadcast root"));
  METARM_RETURN_IF_ERROR(AwaitAll("MPI_Bcast"));
  uint64_t length = bytes.size();
  absl::Status status =
      Check(MPI_Bcast(&length, 1, MPI_UINT64_T, root, comm_), "MPI_Bcast");
  if (!status.ok() || length == 0) {
    if (status.ok()) bytes.clear();
    return status;
  }
  bytes.resize(length);
  return ForEachChunk(bytes.data(), length, 1, [&](void* chunk, int count) {
    return Check(MPI_Bcast(chunk, count, MPI_BYTE, root, comm_), "MPI_Bcast");
  });
}

absl::Status MpiCommunicator::Barrier() {
  const CallWatchdog::Guard watch = Watch("MPI_Barrier");
  return AwaitAll("MPI_Barrier");
}

}  // namespace metarm
