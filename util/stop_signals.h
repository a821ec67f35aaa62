// Pre-emption: SIGTERM and SIGUSR1 ask the run to stop at its next safe point
// (write a checkpoint, then exit) instead of ending the process at once.
// Slurm sends SIGTERM before it kills a pre-empted or timed-out job, and
// SIGUSR1 ahead of time with `#SBATCH --signal=USR1@120`; mpirun forwards
// SIGUSR1 to every rank.
//
//   StopSignals stop;                 // handlers installed
//   ...
//   if (stop.received() != 0) { /* checkpoint, then StoppedBySignal(...) */ }
//
// A second signal of the same kind ends the process the usual way (the
// handler is reset after the first), so a stuck run can still be stopped.
#ifndef METARM_UTIL_STOP_SIGNALS_H_
#define METARM_UTIL_STOP_SIGNALS_H_

#include <csignal>
#include <string>

#include "absl/status/status.h"

namespace metarm {

class StopSignals {
 public:
  // Installs the handlers; the destructor puts the previous ones back.
  // One instance at a time (the signal disposition is per process).
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The first of SIGTERM / SIGUSR1 received since construction, or 0.
  int received() const;

 private:
  struct sigaction previous_term_;
  struct sigaction previous_usr1_;
};

// "SIGTERM", "SIGUSR1", or "signal N".
std::string SignalName(int signal);

// The status a run returns when it stopped for a signal after writing its
// checkpoint (exit code 3 in metarm_train), and its test.
absl::Status StoppedBySignal(const std::string& message);
bool IsStoppedBySignal(const absl::Status& status);

}  // namespace metarm

#endif  // METARM_UTIL_STOP_SIGNALS_H_
