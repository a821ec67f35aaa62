#include "bench/peer_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace metarm {
namespace {

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Both ends of a pipe, closed on scope exit unless released.
struct Pipe {
  int ends[2] = {-1, -1};
  ~Pipe() {
    for (int fd : ends) {
      if (fd >= 0) close(fd);
    }
  }
  int Release(int which) {
    const int fd = ends[which];
    ends[which] = -1;
    return fd;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<PeerProcess>> PeerProcess::Start(
    const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("no command to run");
  signal(SIGPIPE, SIG_IGN);
  Pipe requests, replies;
  if (pipe2(requests.ends, O_CLOEXEC) != 0 ||
      pipe2(replies.ends, O_CLOEXEC) != 0) {
    return ErrnoError("pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, requests.ends[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, replies.ends[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::InternalError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(spawned)));
  }
  return std::unique_ptr<PeerProcess>(new PeerProcess(
      pid, requests.Release(1), replies.Release(0), argv.back()));
}

PeerProcess::~PeerProcess() {
  close(to_child_);  // the child reads end of input and exits
  close(from_child_);
  int status = 0;
  waitpid(pid_, &status, 0);
}

absl::StatusOr<std::string> PeerProcess::Ask(const std::string& request) {
  const std::string line = request + "\n";
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n =
        write(to_child_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return ErrnoError(absl::StrCat(name_, ": sending \"", request, "\""));
    }
    written += static_cast<size_t>(n);
  }
  absl::StatusOr<std::string> reply = ReadLine();
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrCat(name_, ": the reply to \"", request,
                                     "\": ", reply.status().message()));
  }
  return reply;
}

absl::StatusOr<std::string> PeerProcess::ReadLine() {
  for (;;) {
    const size_t end = buffered_.find('\n');
    if (end != std::string::npos) {
      std::string line = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      return line;
    }
    char chunk[4096];
    const ssize_t n = read(from_child_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read");
    if (n == 0) {
      return absl::UnavailableError(
          "the process ended (or closed its output) before replying");
    }
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace metarm
