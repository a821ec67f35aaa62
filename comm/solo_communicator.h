// A group of one process: collectives leave tensors as they are (the
// reduction over one rank), and there is no peer to send to. For
// single-process tools and checks that need a Communicator without MPI, such
// as deploy/gpu_smoke.sh's NCCL communicator of one rank (whose unique id
// this group "broadcasts").
//
//   SoloCommunicator solo;
//   solo.AllReduce(tensor, ReduceOp::kAverage);  // tensor unchanged
#ifndef METARM_COMM_SOLO_COMMUNICATOR_H_
#define METARM_COMM_SOLO_COMMUNICATOR_H_

#include <string>

#include "comm/communicator.h"

namespace metarm {

class SoloCommunicator : public Communicator {
 public:
  explicit SoloCommunicator(std::string name = "solo")
      : name_(std::move(name)) {}

  int rank() const override { return 0; }
  int size() const override { return 1; }
  const std::string& name() const override { return name_; }

  absl::Status AllReduce(at::Tensor& tensor, ReduceOp op) override;
  // Over one rank, both copy `input` into `output`.
  absl::Status ReduceScatter(const at::Tensor& input, at::Tensor& output,
                             ReduceOp op) override;
  absl::Status AllGather(const at::Tensor& input, at::Tensor& output) override;
  absl::Status Broadcast(at::Tensor& tensor, int root) override;
  // There is no other rank: both fail with InvalidArgument.
  absl::Status Send(const at::Tensor& tensor, int destination,
                    int tag) override;
  absl::Status Recv(at::Tensor& tensor, int source, int tag) override;
  absl::Status SendBytes(absl::string_view bytes, int destination,
                         int tag) override;
  absl::StatusOr<std::string> RecvBytes(int source, int tag) override;
  absl::Status BroadcastBytes(std::string& bytes, int root) override;
  absl::Status Barrier() override { return absl::OkStatus(); }

 private:
  absl::Status CheckRoot(int root) const;
  absl::Status NoPeer(int peer) const;

  std::string name_;
};

}  // namespace metarm

#endif  // METARM_COMM_SOLO_COMMUNICATOR_H_
