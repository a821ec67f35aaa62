#include "comm/call_watchdog.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/stderr_line.h"

namespace metarm {

CallWatchdog::CallWatchdog(absl::Duration timeout, OnTimeout on_timeout)
    : timeout_(timeout), on_timeout_(std::move(on_timeout)) {
  thread_ = std::thread([this] { Loop(); });
}

CallWatchdog::~CallWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

CallWatchdog::Guard::Guard(Guard&& other) noexcept
    : watchdog_(other.watchdog_), id_(other.id_) {
  other.watchdog_ = nullptr;
}

CallWatchdog::Guard::~Guard() {
  if (watchdog_ != nullptr) watchdog_->Disarm(id_);
}

CallWatchdog::Guard CallWatchdog::Watch(std::string call) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t id = next_id_++;
  calls_[id] = Call{std::move(call), Clock::now()};
  return Guard(this, id);
}

void CallWatchdog::Disarm(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_.erase(id);
}

void CallWatchdog::Loop() {
  const auto limit = absl::ToChronoMilliseconds(timeout_);
  // Checked ten times a timeout (at most once a second): a hung call is
  // reported within 10 % of the timeout after it expires.
  const auto period = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(1), std::max<std::chrono::milliseconds>(
                                   std::chrono::milliseconds(1), limit / 10));
  std::unique_lock<std::mutex> lock(mutex_);
  Clock::time_point last_wake = Clock::now();
  while (!stopping_) {
    wake_.wait_for(lock, period);
    const Clock::time_point now = Clock::now();
    // A wake-up far later than asked means this whole process was stopped
    // (SIGSTOP, a suspended machine): its calls did not wait for a hung
    // peer, this process was the one not running. Their clocks restart.
    if (now - last_wake > 5 * period + std::chrono::seconds(1)) {
      for (auto& [id, call] : calls_) call.start = now;
    }
    last_wake = now;
    std::vector<std::string> expired;
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (now - it->second.start < limit) {
        ++it;
        continue;
      }
      const double waited =
          std::chrono::duration<double>(now - it->second.start).count();
      expired.push_back(absl::StrFormat(
          "%s did not complete within the collective timeout of %s "
          "(topology.collective_timeout_seconds; waited %.0f s): a rank it "
          "waits for has stopped responding (hung, stopped or deadlocked)",
          it->second.what, absl::FormatDuration(timeout_), waited));
      it = calls_.erase(it);
    }
    if (expired.empty()) continue;
    lock.unlock();
    for (const std::string& message : expired) on_timeout_(message);
    lock.lock();
  }
}

void ExitOnHungCall(int world_rank, const std::string& host,
                    const std::string& message) {
  WriteStderrLine(absl::StrCat("metarm: rank ", world_rank, " (host ", host,
                               ") failed: ", message, "; ending the job"));
  std::_Exit(1);
}

}  // namespace metarm
