// Rank 0's progress line: one line rewritten in place on a terminal, plain
// lines otherwise (log files, pipes).
//
//   ProgressLine progress(ProgressStyle::kUpdating);
//   progress.Show("round 1/2, PPO iteration 3/20, ETA 12 s");
//   progress.Finish();  // ends an updating line
//
// Under mpirun the program's stdout is a pseudo-terminal that mpirun owns
// whatever the user's own output is, so `--progress=auto` cannot trust
// isatty there: it chooses plain lines under a launcher, and
// deploy/run_local.sh passes --progress=updating when its own output is a
// terminal.
#ifndef METARM_METRICS_PROGRESS_H_
#define METARM_METRICS_PROGRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metarm {

enum class ProgressStyle { kUpdating, kPlain };

// "updating", "plain" or "auto" (see above); anything else is an error.
absl::StatusOr<ProgressStyle> ParseProgressStyle(absl::string_view flag);

class ProgressLine {
 public:
  explicit ProgressLine(ProgressStyle style) : style_(style) {}
  ~ProgressLine() { Finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void Show(const std::string& text);
  // Ends an open updating line, so that later output starts on its own line.
  void Finish();

 private:
  ProgressStyle style_;
  bool open_ = false;
};

}  // namespace metarm

#endif  // METARM_METRICS_PROGRESS_H_
