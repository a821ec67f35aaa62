// A child process the benchmark talks to line by line over its stdin and
// stdout: the Python peer (bench/python_peer.py --serve), which times one
// step of its own each time the C++ benchmark has timed one of its own, so
// that every Python/C++ ratio is a pair of timings taken back to back.
//
//   METARM_ASSIGN_OR_RETURN(std::unique_ptr<PeerProcess> peer,
//                           PeerProcess::Start({"/usr/bin/python3", ...}));
//   METARM_ASSIGN_OR_RETURN(std::string reply, peer->Ask("metarm_step 128"));
//
// The child's stderr is the benchmark's. A child that exits or closes its
// stdout ends Ask() with an error naming the request, never a hang; the
// destructor closes the child's stdin and waits for it.
#ifndef METARM_BENCH_PEER_PROCESS_H_
#define METARM_BENCH_PEER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace metarm {

class PeerProcess {
 public:
  // Runs argv[0] (looked up in PATH) with argv. Ignores SIGPIPE in this
  // process, so that writing to a child that has gone is an error, not the
  // end of the benchmark.
  static absl::StatusOr<std::unique_ptr<PeerProcess>> Start(
      const std::vector<std::string>& argv);

  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess();

  // Writes `request` and a newline, then returns the next line the child
  // prints, without its newline.
  absl::StatusOr<std::string> Ask(const std::string& request);

  // The next line the child prints (one it prints unasked, such as a
  // greeting), without its newline.
  absl::StatusOr<std::string> ReadLine();

 private:
  PeerProcess(pid_t pid, int to_child, int from_child, std::string name)
      : pid_(pid),
        to_child_(to_child),
        from_child_(from_child),
        name_(std::move(name)) {}

  pid_t pid_;
  int to_child_;
  int from_child_;
  std::string name_;
  std::string buffered_;  // read past the last line returned
};

}  // namespace metarm

#endif  // METARM_BENCH_PEER_PROCESS_H_
