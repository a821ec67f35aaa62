#include "util/stderr_line.h"

#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace metarm {
namespace {

// Redirects standard error into a pipe for the test's lifetime.
class StderrPipe {
 public:
  StderrPipe() {
    EXPECT_EQ(::pipe(fds_), 0);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fds_[1], STDERR_FILENO);
  }
  ~StderrPipe() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  // One read, as mpirun's forwarder does: what one write put there.
  std::string ReadOnce() {
    char buffer[8192];
    const ssize_t got = ::read(fds_[0], buffer, sizeof(buffer));
    return got > 0 ? std::string(buffer, static_cast<size_t>(got)) : "";
  }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

TEST(WriteStderrLineTest, OneReadReturnsTheWholeLineWithItsNewline) {
  StderrPipe pipe;
  const std::string line =
      "metarm: rank 2 (host node7) failed: " + std::string(400, 'x') +
      "; ending the job";
  WriteStderrLine(line);
  EXPECT_EQ(pipe.ReadOnce(), line + "\n");
}

TEST(WriteStderrLineTest, EmptyLineIsJustANewline) {
  StderrPipe pipe;
  WriteStderrLine("");
  EXPECT_EQ(pipe.ReadOnce(), "\n");
}

}  // namespace
}  // namespace metarm
