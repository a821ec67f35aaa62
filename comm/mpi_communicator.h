// The MPI backend of the Communicator interface, for CPU tensors.
//
//   MpiEnvironment mpi(&argc, &argv);
//   std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
//   absl::StatusOr<std::unique_ptr<MpiCommunicator>> learners =
//       world->Split(is_learner ? 0 : MpiCommunicator::kNotInGroup,
//                    world->rank(), "learners");
//
// Messages longer than INT_MAX elements are sent in chunks (MPI counts are
// ints). Errors name the MPI call, the rank, the host and the group.
#ifndef METARM_COMM_MPI_COMMUNICATOR_H_
#define METARM_COMM_MPI_COMMUNICATOR_H_

#include <mpi.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "comm/call_watchdog.h"
#include "comm/communicator.h"

namespace metarm {

class MpiCommunicator : public Communicator {
 public:
  // Color for Split: this rank joins no group (Split returns nullptr).
  static constexpr int kNotInGroup = -1;

  // MPI_COMM_WORLD (not freed on destruction).
  static std::unique_ptr<MpiCommunicator> World();

  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  // Collective over this group (MPI_Comm_split): ranks with the same color
  // form a new group, ordered by `key`. kNotInGroup gives nullptr.
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> Split(int color, int key,
                                                         std::string name);

  // The ranks on this rank's node (MPI_Comm_split_type, shared memory).
  absl::StatusOr<std::unique_ptr<MpiCommunicator>> SplitByNode();

  // Arms `watchdog` around every call of this group and of the groups split
  // from it afterwards (comm/call_watchdog.h): a call that hangs is reported
  // with this group's name and this rank. Null: no watchdog.
  void SetWatchdog(std::shared_ptr<CallWatchdog> watchdog) {
    watchdog_ = std::move(watchdog);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& name() const override { return name_; }
  MPI_Comm handle() const { return comm_; }

  absl::Status AllReduce(at::Tensor& tensor, ReduceOp op) override;
  absl::Status ReduceScatter(const at::Tensor& input, at::Tensor& output,
                             ReduceOp op) override;
  absl::Status AllGather(const at::Tensor& input, at::Tensor& output) override;
  absl::Status Broadcast(at::Tensor& tensor, int root) override;
  absl::Status Send(const at::Tensor& tensor, int destination,
                    int tag) override;
  absl::Status Recv(at::Tensor& tensor, int source, int tag) override;
  absl::Status SendBytes(absl::string_view bytes, int destination,
                         int tag) override;
  absl::StatusOr<std::string> RecvBytes(int source, int tag) override;
  absl::Status BroadcastBytes(std::string& bytes, int root) override;
  absl::Status Barrier() override;

 private:
  MpiCommunicator(MPI_Comm comm, std::string name, bool owned);

  // OK for MPI_SUCCESS; otherwise an error naming `call` and this rank.
  absl::Status Check(int mpi_result, absl::string_view call) const;
  // InvalidArgument naming this rank, for a peer index outside the group.
  absl::Status CheckPeer(int peer, const char* what) const;
  // The watchdog armed for `call` until the guard goes ("MPI_Send to rank 2
  // on group 'world' (rank 0 of 3)" with peer_relation "to" and peer 2; no
  // peer when it is -1); a guard of nothing without a watchdog.
  CallWatchdog::Guard Watch(const char* call, const char* peer_relation = "",
                            int peer = -1) const;
  // Returns once every rank of the group has reached `call` (a barrier,
  // waited for without holding a core: comm/polite_wait.h). The
  // collectives call it first, so that their blocking MPI function is only
  // entered when it will not wait for a late rank.
  absl::Status AwaitAll(const char* call) const;
  // Returns once a message from `source` with `tag` has arrived (its
  // envelope in `status`), waiting as AwaitAll does.
  absl::Status AwaitMessage(int source, int tag, MPI_Status* status) const;

  MPI_Comm comm_;
  std::string name_;
  bool owned_;
  int rank_ = 0;
  int size_ = 1;
  std::shared_ptr<CallWatchdog> watchdog_;
};

}  // namespace metarm

#endif  // METARM_COMM_MPI_COMMUNICATOR_H_
