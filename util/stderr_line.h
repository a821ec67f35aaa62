#ifndef METARM_UTIL_STDERR_LINE_H_
#define METARM_UTIL_STDERR_LINE_H_

#include "absl/strings/string_view.h"

namespace metarm {

// Writes `line` and a newline to standard error in one write(2) call.
// Several ranks of one job print their failure at the same moment and
// mpirun forwards whatever each read of a rank's stream returns; a line
// written piecewise (as `std::cerr << a << b` does, stderr being unbuffered)
// comes out interleaved with the other ranks' pieces. One write of a line
// shorter than PIPE_BUF reaches the pipe whole. Async-signal-safe apart from
// the string it builds, so a watchdog thread may call it just before _Exit.
void WriteStderrLine(absl::string_view line);

}  // namespace metarm

#endif  // METARM_UTIL_STDERR_LINE_H_
