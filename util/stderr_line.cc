#include "util/stderr_line.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace metarm {

void WriteStderrLine(absl::string_view line) {
  std::string whole(line);
  whole.push_back('\n');
  const char* data = whole.data();
  size_t left = whole.size();
  // A pipe takes the whole line at once; the loop is for a terminal or file
  // that takes part of it, and for a signal that interrupts the call.
  while (left > 0) {
    const ssize_t written = ::write(STDERR_FILENO, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a failure to report.
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
}

}  // namespace metarm
