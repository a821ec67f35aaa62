#include "util/stop_signals.h"

#include "absl/strings/str_cat.h"

namespace metarm {
namespace {

// The one process-wide variable of the project: a signal handler can reach
// nothing else. Written only by the handler, read by StopSignals::received.
volatile std::sig_atomic_t received_signal = 0;

void RecordSignal(int signal) {
  if (received_signal == 0) received_signal = signal;
}

struct sigaction Install(int signal) {
  struct sigaction action = {};
  action.sa_handler = RecordSignal;
  sigemptyset(&action.sa_mask);
  // Restart interrupted system calls (MPI's, file writes); the second signal
  // of the kind takes its default action.
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  struct sigaction previous = {};
  sigaction(signal, &action, &previous);
  return previous;
}

}  // namespace

StopSignals::StopSignals()
    : previous_term_(Install(SIGTERM)), previous_usr1_(Install(SIGUSR1)) {
  received_signal = 0;
}

StopSignals::~StopSignals() {
  sigaction(SIGTERM, &previous_term_, nullptr);
  sigaction(SIGUSR1, &previous_usr1_, nullptr);
}

int StopSignals::received() const { return received_signal; }

std::string SignalName(int signal) {
  if (signal == SIGTERM) return "SIGTERM";
  if (signal == SIGUSR1) return "SIGUSR1";
  return absl::StrCat("signal ", signal);
}

absl::Status StoppedBySignal(const std::string& message) {
  return absl::CancelledError(message);
}

bool IsStoppedBySignal(const absl::Status& status) {
  return absl::IsCancelled(status);
}

}  // namespace metarm
