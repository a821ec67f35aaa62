#include "comm/polite_wait.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace metarm {
namespace {

using Clock = std::chrono::steady_clock;

// Calls `poll` until it reports completion or an error: busy for the first
// millisecond, then with sleeps that grow with the wait (see the header).
template <typename Poll>
int PollPolitely(Poll poll) {
  constexpr auto kBusy = std::chrono::milliseconds(1);
  constexpr auto kShortest = std::chrono::microseconds(50);
  constexpr auto kLongest = std::chrono::milliseconds(5);
  const Clock::time_point start = Clock::now();
  while (true) {
    int done = 0;
    const int result = poll(&done);
    if (result != MPI_SUCCESS || done) return result;
    const auto waited = Clock::now() - start;
    if (waited < kBusy) continue;
    std::this_thread::sleep_for(std::clamp<Clock::duration>(
        waited / 20, std::chrono::duration_cast<Clock::duration>(kShortest),
        std::chrono::duration_cast<Clock::duration>(kLongest)));
  }
}

}  // namespace

int WaitPolitely(MPI_Request* request, MPI_Status* status) {
  return PollPolitely(
      [&](int* done) { return MPI_Test(request, done, status); });
}

int ProbePolitely(int source, int tag, MPI_Comm comm, MPI_Status* status) {
  return PollPolitely(
      [&](int* done) { return MPI_Iprobe(source, tag, comm, done, status); });
}

}  // namespace metarm
