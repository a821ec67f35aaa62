#include "comm/messages.h"

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace metarm {

absl::Status SendMessage(Communicator& comm,
                         const google::protobuf::MessageLite& message,
                         int destination, int tag) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return absl::InternalError(
        absl::StrCat("cannot serialize ", message.GetTypeName()));
  }
  return comm.SendBytes(bytes, destination, tag);
}

absl::Status RecvMessage(Communicator& comm,
                         google::protobuf::MessageLite* message, int source,
                         int tag) {
  METARM_ASSIGN_OR_RETURN(std::string bytes, comm.RecvBytes(source, tag));
  if (!message->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(
        "rank ", comm.rank(), " of ", comm.name(), ": the ", bytes.size(),
        " bytes from rank ", source, " are not a ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

absl::Status BroadcastMessage(Communicator& comm,
                              google::protobuf::MessageLite* message,
                              int root) {
  std::string bytes;
  if (comm.rank() == root && !message->SerializeToString(&bytes)) {
    return absl::InternalError(
        absl::StrCat("cannot serialize ", message->GetTypeName()));
  }
  METARM_RETURN_IF_ERROR(comm.BroadcastBytes(bytes, root));
  if (comm.rank() != root && !message->ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("rank ", comm.rank(), " of ", comm.name(),
                     ": broadcast bytes are not a ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

}  // namespace metarm
