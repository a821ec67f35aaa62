// Protobuf messages over a Communicator (the control plane: metadata, not
// tensors).
//
//   RankInfo info = ...;
//   absl::StatusOr<std::vector<RankInfo>> all = GatherMessages(world, info, 0);
#ifndef METARM_COMM_MESSAGES_H_
#define METARM_COMM_MESSAGES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "comm/communicator.h"
#include "google/protobuf/message_lite.h"
#include "util/status_macros.h"

namespace metarm {

// Tags at or above this value are used by the helpers below.
inline constexpr int kGatherMessagesTag = 1 << 20;

absl::Status SendMessage(Communicator& comm,
                         const google::protobuf::MessageLite& message,
                         int destination, int tag);

// DataLoss when the received bytes do not parse as `message`'s type.
absl::Status RecvMessage(Communicator& comm,
                         google::protobuf::MessageLite* message, int source,
                         int tag);

// Broadcasts rank `root`'s message to every rank.
absl::Status BroadcastMessage(Communicator& comm,
                              google::protobuf::MessageLite* message, int root);

// Collects every rank's `message` on `root`, ordered by rank; other ranks get
// an empty vector.
template <typename Message>
absl::StatusOr<std::vector<Message>> GatherMessages(Communicator& comm,
                                                    const Message& message,
                                                    int root) {
  std::vector<Message> gathered;
  if (comm.rank() != root) {
    METARM_RETURN_IF_ERROR(
        SendMessage(comm, message, root, kGatherMessagesTag));
    return gathered;
  }
  gathered.resize(comm.size());
  gathered[root] = message;
  for (int source = 0; source < comm.size(); ++source) {
    if (source == root) continue;
    METARM_RETURN_IF_ERROR(
        RecvMessage(comm, &gathered[source], source, kGatherMessagesTag));
  }
  return gathered;
}

}  // namespace metarm

#endif  // METARM_COMM_MESSAGES_H_
