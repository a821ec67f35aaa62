#include "comm/routing_communicator.h"

#include "absl/strings/str_cat.h"
#include "comm/nccl_communicator.h"
#include "util/status_macros.h"

namespace metarm {

absl::StatusOr<TensorBackend> ParseTensorBackend(const std::string& name) {
  if (name == "auto") return TensorBackend::kAuto;
  if (name == "mpi") return TensorBackend::kHost;
  if (name == "nccl") return TensorBackend::kDevice;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown communication backend \"", name, "\": auto, mpi or nccl"));
}

std::string TensorBackendName(TensorBackend backend) {
  switch (backend) {
    case TensorBackend::kHost:
      return "mpi";
    case TensorBackend::kDevice:
      return "nccl";
    default:
      return "auto";
  }
}

RoutingCommunicator::RoutingCommunicator(std::unique_ptr<Communicator> host,
                                         TensorRouting routing)
    : host_(std::move(host)), routing_(routing) {}

std::pair<Communicator*, torch::Device> RoutingCommunicator::BackendFor(
    const at::Tensor& tensor) const {
  const bool over_device = routing_.backend == TensorBackend::kDevice ||
                           (routing_.backend == TensorBackend::kAuto &&
                            tensor.is_cuda() && device_ != nullptr);
  // NCCL works on this rank's device, MPI in host memory.
  if (over_device) return {device_.get(), routing_.device};
  return {host_.get(), torch::kCPU};
}

absl::Status RoutingCommunicator::NotConnected() const {
  return absl::FailedPreconditionError(
      absl::StrCat("group ", name(),
                   ": the NCCL backend was asked for but is not "
                   "connected (ConnectDeviceBackend)"));
}

absl::Status RoutingCommunicator::Route(at::Tensor tensor, bool write_back,
                                        const Move& move) {
  auto [backend, needed] = BackendFor(tensor);
  if (backend == nullptr) return NotConnected();
  if (tensor.device() == needed) return move(*backend, tensor);
  at::Tensor staged = tensor.to(needed);
  absl::Status status = move(*backend, staged);
  if (status.ok() && write_back) tensor.copy_(staged);
  return status;
}

absl::Status RoutingCommunicator::RoutePair(const at::Tensor& input,
                                            at::Tensor& output,
                                            const MovePair& move) {
  auto [backend, needed] = BackendFor(output);
  if (backend == nullptr) return NotConnected();
  const at::Tensor staged_input = input.to(needed);
  if (output.device() == needed) return move(*backend, staged_input, output);
  at::Tensor staged_output = output.to(needed);
  absl::Status status = move(*backend, staged_input, staged_output);
  if (status.ok()) output.copy_(staged_output);
  return status;
}

absl::Status RoutingCommunicator::ReduceScatter(const at::Tensor& input,
                                                at::Tensor& output,
                                                ReduceOp op) {
  return RoutePair(
      input, output,
      [op](Communicator& c, const at::Tensor& in, at::Tensor& out) {
        return c.ReduceScatter(in, out, op);
      });
}

absl::Status RoutingCommunicator::AllGather(const at::Tensor& input,
                                            at::Tensor& output) {
  return RoutePair(input, output,
                   [](Communicator& c, const at::Tensor& in, at::Tensor& out) {
                     return c.AllGather(in, out);
                   });
}

absl::Status RoutingCommunicator::AllReduce(at::Tensor& tensor, ReduceOp op) {
  return Route(
      tensor, /*write_back=*/true,
      [op](Communicator& c, at::Tensor& t) { return c.AllReduce(t, op); });
}

absl::Status RoutingCommunicator::Broadcast(at::Tensor& tensor, int root) {
  return Route(
      tensor, /*write_back=*/true,
      [root](Communicator& c, at::Tensor& t) { return c.Broadcast(t, root); });
}

absl::Status RoutingCommunicator::Send(const at::Tensor& tensor,
                                       int destination, int tag) {
  return Route(tensor, /*write_back=*/false,
               [destination, tag](Communicator& c, at::Tensor& t) {
                 return c.Send(t, destination, tag);
               });
}

absl::Status RoutingCommunicator::Recv(at::Tensor& tensor, int source,
                                       int tag) {
  return Route(tensor, /*write_back=*/true,
               [source, tag](Communicator& c, at::Tensor& t) {
                 return c.Recv(t, source, tag);
               });
}

absl::Status RoutingCommunicator::SendBytes(absl::string_view bytes,
                                            int destination, int tag) {
  return host_->SendBytes(bytes, destination, tag);
}

absl::StatusOr<std::string> RoutingCommunicator::RecvBytes(int source,
                                                           int tag) {
  return host_->RecvBytes(source, tag);
}

absl::Status RoutingCommunicator::BroadcastBytes(std::string& bytes, int root) {
  return host_->BroadcastBytes(bytes, root);
}

absl::Status RoutingCommunicator::Barrier() { return host_->Barrier(); }

absl::Status ConnectDeviceBackend(RoutingCommunicator& group) {
  const TensorRouting& routing = group.routing();
  if (routing.backend == TensorBackend::kHost) return absl::OkStatus();
  if (!routing.device.is_cuda()) {
    if (routing.backend == TensorBackend::kAuto) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "the nccl backend moves CUDA tensors, and this rank's device is ",
        routing.device.str(),
        "; use backend auto or mpi, or give the ranks GPUs"));
  }
  NcclOptions options;
  options.timeout = routing.collective_timeout;
  METARM_ASSIGN_OR_RETURN(
      std::unique_ptr<Communicator> nccl,
      CreateNcclCommunicator(group.host(), routing.device.index(), options));
  group.SetDeviceBackend(std::move(nccl));
  return absl::OkStatus();
}

}  // namespace metarm
