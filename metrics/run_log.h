// A job's metric logs: each line goes to a JSON-lines file in the output
// folder and, as TensorBoard scalars, to an event file in <output_dir>/tb.
//
//   auto log = RunLog::Start(output_dir, {{"rounds.jsonl", "round"}}, true);
//   (*log)->Append("rounds.jsonl", {{"round", 1}, {"gold_reward_mean", .7}});
//   // -> rounds.jsonl gains the line; TensorBoard shows
//   //    rounds/gold_reward_mean at step 1 (the line's "round")
//
// Nested objects become tags with more parts ({"seconds": {"learning": 2}}
// -> "metrics/seconds/learning"); values that are not numbers or booleans
// stay in the JSON file only.
#ifndef METARM_METRICS_RUN_LOG_H_
#define METARM_METRICS_RUN_LOG_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/event_file.h"
#include "nlohmann/json.hpp"

namespace metarm {

struct LogFile {
  std::string name;      // inside the output folder, e.g. "metrics.jsonl"
  std::string step_key;  // the key holding the TensorBoard step; empty: the
                         // file's lines do not go to TensorBoard
};

class RunLog {
 public:
  // Starts the logs of a new run: every file is emptied and old event files
  // in <output_dir>/tb are removed, so a rerun does not mix with an old
  // run's numbers. Without `tensorboard`, no event file is written.
  static absl::StatusOr<std::unique_ptr<RunLog>> Start(
      const std::string& output_dir, const std::vector<LogFile>& files,
      bool tensorboard);

  // Continues a run from a checkpoint taken when each file held
  // `line_counts[name]` lines: later lines (written after the checkpoint) are
  // cut off, and the event file is rewritten from the lines kept. A file
  // with fewer lines than that is DataLoss naming it, and nothing is changed.
  static absl::StatusOr<std::unique_ptr<RunLog>> Resume(
      const std::string& output_dir, const std::vector<LogFile>& files,
      bool tensorboard, const std::map<std::string, int64_t>& line_counts);

  // Appends `line` to `file` (flushed to disk) and its numbers to the event
  // file, tagged "<file without .jsonl>/<key>".
  absl::Status Append(const std::string& file, const nlohmann::json& line);

  // Lines in each file so far (what a checkpoint records).
  const std::map<std::string, int64_t>& line_counts() const {
    return line_counts_;
  }
  // Empty without TensorBoard.
  std::string event_file() const {
    return events_ != nullptr ? events_->path() : "";
  }

 private:
  RunLog(std::string output_dir, std::vector<LogFile> files)
      : output_dir_(std::move(output_dir)), files_(std::move(files)) {}
  absl::Status StartEvents(bool tensorboard);
  absl::Status AddToEvents(const LogFile& file, const nlohmann::json& line);
  const LogFile* Find(const std::string& name) const;

  std::string output_dir_;
  std::vector<LogFile> files_;
  std::map<std::string, int64_t> line_counts_;
  std::unique_ptr<EventFile> events_;
};

// The numeric leaves of `value`, tagged "<prefix>/<key>[/<key>...]", in the
// JSON object's key order.
std::vector<std::pair<std::string, double>> NumericLeaves(
    const nlohmann::json& value, const std::string& prefix);

}  // namespace metarm

#endif  // METARM_METRICS_RUN_LOG_H_
