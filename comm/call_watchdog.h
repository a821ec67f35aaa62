// A watchdog for blocking communication calls: a call that has not returned
// within `timeout` is reported, from a thread of its own, while the calling
// thread is still stuck in it. The MPI backend arms it around each of its
// calls (the NCCL backend has its own, on the stream's events).
//
//   CallWatchdog watchdog(absl::Seconds(600), [](const std::string& what) {
//     std::cerr << what; std::_Exit(1);   // see ExitOnHungCall
//   });
//   {
//     CallWatchdog::Guard guard = watchdog.Watch("MPI_Allreduce on 'world'");
//     MPI_Allreduce(...);
//   }
//
// Why a thread: a rank stopped by a deadlocked library, a stuck device or
// SIGSTOP never answers, and the ranks waiting for it sit inside MPI, which
// offers no timeout on blocking calls.
#ifndef METARM_COMM_CALL_WATCHDOG_H_
#define METARM_COMM_CALL_WATCHDOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace metarm {

class CallWatchdog {
 public:
  // Called on the watchdog's thread with a message naming the call and how
  // long it has waited; meant not to return (ExitOnHungCall). If it does, the
  // call is reported once.
  using OnTimeout = std::function<void(const std::string& message)>;

  CallWatchdog(absl::Duration timeout, OnTimeout on_timeout);
  ~CallWatchdog();  // stops the thread
  CallWatchdog(const CallWatchdog&) = delete;
  CallWatchdog& operator=(const CallWatchdog&) = delete;

  // Disarms its call when destroyed.
  class Guard {
   public:
    Guard(CallWatchdog* watchdog, uint64_t id) : watchdog_(watchdog), id_(id) {}
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&&) = delete;
    ~Guard();

   private:
    CallWatchdog* watchdog_;
    uint64_t id_;
  };

  // Arms the watchdog for one call, described by `call` (say "MPI_Bcast on
  // group 'rollouts', rank 0 of 2"). Calls from several threads may be
  // watched at once.
  Guard Watch(std::string call);

  absl::Duration timeout() const { return timeout_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Call {
    std::string what;
    Clock::time_point start;
  };

  void Disarm(uint64_t id);
  void Loop();

  const absl::Duration timeout_;
  const OnTimeout on_timeout_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<uint64_t, Call> calls_;  // guarded by mutex_
  uint64_t next_id_ = 0;            // guarded by mutex_
  bool stopping_ = false;           // guarded by mutex_
  std::thread thread_;
};

// The OnTimeout of metarm_train: prints "metarm: rank R (host H) failed:
// <message>" to stderr and ends this process with exit code 1 at once
// (std::_Exit: the main thread is stuck inside MPI, so MPI_Abort cannot be
// called from here). mpirun or srun then ends the job's other ranks, the
// hung one included.
[[noreturn]] void ExitOnHungCall(int world_rank, const std::string& host,
                                 const std::string& message);

}  // namespace metarm

#endif  // METARM_COMM_CALL_WATCHDOG_H_
