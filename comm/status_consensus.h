// One verdict for a group from every rank's own status, so that a failure on
// one rank (a data file it cannot read, say) stops every rank the same way
// instead of leaving the others waiting in the next collective.
//
//   absl::Status mine = LoadData(...);
//   METARM_RETURN_IF_ERROR(AgreeOnStatus(world, mine));  // on every rank
#ifndef METARM_COMM_STATUS_CONSENSUS_H_
#define METARM_COMM_STATUS_CONSENSUS_H_

#include "absl/status/status.h"
#include "comm/communicator.h"

namespace metarm {

// Collective. OK when every rank passed OK; otherwise, on every rank, the
// status of the lowest-numbered failing rank (code and message).
absl::Status AgreeOnStatus(Communicator& group, const absl::Status& local);

}  // namespace metarm

#endif  // METARM_COMM_STATUS_CONSENSUS_H_
