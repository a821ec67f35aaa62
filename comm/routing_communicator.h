// One process group whose tensors travel over the backend that suits their
// device: a host backend (MPI) for CPU tensors and byte messages, a device
// backend (NCCL) for CUDA tensors. topology.backend (or --comm_backend) can
// force one backend for every tensor; a tensor on the wrong side is staged:
// copied to where that backend works, moved, and copied back.
//
//   RoutingCommunicator learners(std::move(mpi_learners), routing);
//   METARM_RETURN_IF_ERROR(ConnectDeviceBackend(learners));  // collective
//   learners.AllReduce(cuda_gradient, ReduceOp::kSum);  // NCCL
//   learners.AllReduce(cpu_counts, ReduceOp::kSum);     // MPI
//
// Every rank of a group must route a given call the same way, so a job keeps
// one device type on every rank (the trainer checks it at start).
#ifndef METARM_COMM_ROUTING_COMMUNICATOR_H_
#define METARM_COMM_ROUTING_COMMUNICATOR_H_

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "comm/communicator.h"

namespace metarm {

enum class TensorBackend {
  kAuto,    // CUDA tensors over the device backend, CPU tensors over the host
  kHost,    // every tensor over the host backend (MPI)
  kDevice,  // every tensor over the device backend (NCCL)
};

// How a rank's groups move tensors: the policy and the rank's device (where
// kDevice stages CPU tensors, and where NCCL runs).
struct TensorRouting {
  TensorBackend backend = TensorBackend::kAuto;
  torch::Device device = torch::kCPU;
  // The NCCL backend's collective timeout
  // (topology.collective_timeout_seconds).
  absl::Duration collective_timeout = absl::Minutes(30);
};

// "auto", "mpi" or "nccl" (the names of --comm_backend and topology.backend).
absl::StatusOr<TensorBackend> ParseTensorBackend(const std::string& name);
std::string TensorBackendName(TensorBackend backend);

class RoutingCommunicator : public Communicator {
 public:
  RoutingCommunicator(std::unique_ptr<Communicator> host,
                      TensorRouting routing);

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  const std::string& name() const override { return host_->name(); }

  Communicator& host() { return *host_; }
  const TensorRouting& routing() const { return routing_; }
  // Before ConnectDeviceBackend; a connected device backend stays.
  void set_routing(const TensorRouting& routing) { routing_ = routing; }
  bool has_device_backend() const { return device_ != nullptr; }
  void SetDeviceBackend(std::unique_ptr<Communicator> device) {
    device_ = std::move(device);
  }

  absl::Status AllReduce(at::Tensor& tensor, ReduceOp op) override;
  // Routed by `output`'s device; `input` is staged with it when needed.
  absl::Status ReduceScatter(const at::Tensor& input, at::Tensor& output,
                             ReduceOp op) override;
  absl::Status AllGather(const at::Tensor& input, at::Tensor& output) override;
  absl::Status Broadcast(at::Tensor& tensor, int root) override;
  absl::Status Send(const at::Tensor& tensor, int destination,
                    int tag) override;
  absl::Status Recv(at::Tensor& tensor, int source, int tag) override;
  // Bytes and barriers always go over the host backend.
  absl::Status SendBytes(absl::string_view bytes, int destination,
                         int tag) override;
  absl::StatusOr<std::string> RecvBytes(int source, int tag) override;
  absl::Status BroadcastBytes(std::string& bytes, int root) override;
  absl::Status Barrier() override;

 private:
  using Move = std::function<absl::Status(Communicator&, at::Tensor&)>;
  using MovePair = std::function<absl::Status(
      Communicator&, const at::Tensor& input, at::Tensor& output)>;
  // The backend that carries `tensor` (null: asked for and not connected)
  // and the device where that backend needs it.
  std::pair<Communicator*, torch::Device> BackendFor(
      const at::Tensor& tensor) const;
  absl::Status NotConnected() const;
  // Runs `move` on the backend that carries `tensor`, staging it where that
  // backend needs it; `write_back`: copy the result into `tensor`. The
  // tensor is a handle: the caller's storage is the one written.
  absl::Status Route(at::Tensor tensor, bool write_back, const Move& move);
  // The same for a collective from `input` into `output` (routed by
  // `output`).
  absl::Status RoutePair(const at::Tensor& input, at::Tensor& output,
                         const MovePair& move);

  std::unique_ptr<Communicator> host_;
  std::unique_ptr<Communicator> device_;  // null until connected
  TensorRouting routing_;
};

// Collective over `group`: gives it an NCCL device backend when its routing
// needs one (a CUDA device and a backend other than kHost). kDevice on a CPU
// device is FailedPrecondition; a build without --config=cuda answers
// Unimplemented there.
absl::Status ConnectDeviceBackend(RoutingCommunicator& group);

}  // namespace metarm

#endif  // METARM_COMM_ROUTING_COMMUNICATOR_H_
