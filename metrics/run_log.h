// A job's metric logs: each line goes to a JSON-lines file in the output
// folder and, as TensorBoard scalars, to an event file in <output_dir>/tb.
//
//   auto log = RunLog::Start(output_dir, {"metrics.jsonl", "rounds.jsonl"});
//   (*log)->Append("rounds.jsonl", /*step=*/round, {{"gold_reward_mean", .7}});
//   // -> rounds.jsonl gains the line; TensorBoard shows
//   rounds/gold_reward_mean
//
// Nested objects become tags with more parts ({"seconds": {"learning": 2}}
// -> "metrics/seconds/learning"); values that are not numbers (or booleans)
// stay in the JSON file only.
#ifndef METARM_METRICS_RUN_LOG_H_
#define METARM_METRICS_RUN_LOG_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/event_file.h"
#include "nlohmann/json.hpp"

namespace metarm {

class RunLog {
 public:
  // Starts the logs of a new run: each of `files` (names inside
  // `output_dir`) is emptied and old event files in <output_dir>/tb are
  // removed, so a rerun does not mix with an old run's numbers; then a new
  // event file is created.
  static absl::StatusOr<std::unique_ptr<RunLog>> Start(
      const std::string& output_dir, const std::vector<std::string>& files);

  // Appends `line` to `file` (flushed) and its numbers to the event file at
  // `step`, tagged "<file without .jsonl>/<key>".
  absl::Status Append(const std::string& file, int64_t step,
                      const nlohmann::json& line);

  const std::string& event_file() const { return events_->path(); }

 private:
  RunLog(std::string output_dir, std::unique_ptr<EventFile> events)
      : output_dir_(std::move(output_dir)), events_(std::move(events)) {}

  std::string output_dir_;
  std::unique_ptr<EventFile> events_;
};

// The numeric leaves of `value`, tagged "<prefix>/<key>[/<key>...]", in the
// JSON object's key order.
std::vector<std::pair<std::string, double>> NumericLeaves(
    const nlohmann::json& value, const std::string& prefix);

}  // namespace metarm

#endif  // METARM_METRICS_RUN_LOG_H_
