// A TensorBoard event file of scalar summaries.
//
//   absl::StatusOr<std::unique_ptr<EventFile>> events =
//       EventFile::Create(output_dir + "/tb");
//   (*events)->AddScalars(step, {{"ppo/policy_loss", 0.12}});
//
// Each record is appended and flushed at once, so TensorBoard can follow a
// running job and a crash loses at most the record being written.
#ifndef METARM_METRICS_EVENT_FILE_H_
#define METARM_METRICS_EVENT_FILE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metarm {

class EventFile {
 public:
  // Creates `directory` if needed and a new file in it named
  // events.out.tfevents.<seconds>.<host>.<pid> (TensorBoard finds files by
  // the "tfevents" in their name), starting with the file-version record.
  static absl::StatusOr<std::unique_ptr<EventFile>> Create(
      const std::string& directory);
  ~EventFile();
  EventFile(const EventFile&) = delete;
  EventFile& operator=(const EventFile&) = delete;

  // One event at `step` holding every (tag, value) pair.
  absl::Status AddScalars(
      int64_t step, const std::vector<std::pair<std::string, double>>& values);

  const std::string& path() const { return path_; }

 private:
  EventFile(std::string path, std::FILE* file)
      : path_(std::move(path)), file_(file) {}
  absl::Status WriteRecord(absl::string_view event);

  std::string path_;
  std::FILE* file_;
};

}  // namespace metarm

#endif  // METARM_METRICS_EVENT_FILE_H_
