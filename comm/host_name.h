// This host's name, for messages (no MPI needed, so that the NCCL backend
// and single-process tools can name the host too).
#ifndef METARM_COMM_HOST_NAME_H_
#define METARM_COMM_HOST_NAME_H_

#include <string>

namespace metarm {

// gethostname(2), or "unknown".
std::string LocalHostName();

}  // namespace metarm

#endif  // METARM_COMM_HOST_NAME_H_
