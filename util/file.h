// Whole-file reading and atomic whole-file writing.
//
//   absl::StatusOr<std::string> text = ReadFile("jobs/quickstart.pbtxt");
//   absl::Status s = WriteFileAtomically("out/metrics.json", bytes);
#ifndef METARM_UTIL_FILE_H_
#define METARM_UTIL_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metarm {

// Reads the whole file. NotFound names the path when it does not exist; other
// failures carry strerror.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` through a temporary file in the same folder,
// flushed to disk and renamed over `path`: readers see the old file or the new
// one, never a half-written one.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);

// Appends `line` (which should end in a newline) to `path`, creating it, and
// flushes it to disk: a JSON-lines log survives a crash up to its last line.
absl::Status AppendLine(const std::string& path, absl::string_view line);

// Creates `path` and its missing parents (like mkdir -p).
absl::Status MakeDirectories(const std::string& path);

// Whether a file or folder exists at `path`.
bool PathExists(const std::string& path);

}  // namespace metarm

#endif  // METARM_UTIL_FILE_H_
