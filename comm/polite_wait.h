#ifndef METARM_COMM_POLITE_WAIT_H_
#define METARM_COMM_POLITE_WAIT_H_

#include <mpi.h>

namespace metarm {

// Waiting for a request or a message without holding a core.
//
// Open MPI's blocking calls poll the transport in a loop: a rank that waits
// through another phase (a rollout worker through SFT and reward-model
// training, a learner for a slow peer) burns a whole core for minutes, and
// on a node with more ranks than cores it takes that core from the ranks
// doing the work. These functions poll for the first millisecond (a
// collective among ready ranks finishes at full speed) and then sleep
// between polls for a twentieth of the time waited so far, between 50 us
// and 5 ms: a long wait costs well under 1 % of a core, and ends at most
// 5 ms (or 5 %) after the peer arrives.

// MPI_Wait, politely. Returns MPI's error code.
int WaitPolitely(MPI_Request* request, MPI_Status* status);

// MPI_Probe, politely: returns once a message from `source` with `tag` on
// `comm` has arrived, its envelope in `status`.
int ProbePolitely(int source, int tag, MPI_Comm comm, MPI_Status* status);

}  // namespace metarm

#endif  // METARM_COMM_POLITE_WAIT_H_
