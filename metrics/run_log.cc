#include "metrics/run_log.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "util/file.h"

namespace metarm {
namespace {

void CollectLeaves(const nlohmann::json& value, const std::string& tag,
                   std::vector<std::pair<std::string, double>>& leaves) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      CollectLeaves(child, absl::StrCat(tag, "/", key), leaves);
    }
  } else if (value.is_number()) {
    leaves.emplace_back(tag, value.get<double>());
  } else if (value.is_boolean()) {
    leaves.emplace_back(tag, value.get<bool>() ? 1.0 : 0.0);
  }
}

// An old run's event files: TensorBoard would merge them with the new run's.
absl::Status RemoveEventFiles(const std::string& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) return absl::OkStatus();
  for (const auto& entry :
       std::filesystem::directory_iterator(directory, error)) {
    if (!absl::StartsWith(entry.path().filename().string(),
                          "events.out.tfevents.")) {
      continue;
    }
    if (!std::filesystem::remove(entry.path(), error)) {
      return absl::PermissionDeniedError(absl::StrCat(
          entry.path().string(), ": cannot remove: ", error.message()));
    }
  }
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat(directory, ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::pair<std::string, double>> NumericLeaves(
    const nlohmann::json& value, const std::string& prefix) {
  std::vector<std::pair<std::string, double>> leaves;
  CollectLeaves(value, prefix, leaves);
  return leaves;
}

absl::StatusOr<std::unique_ptr<RunLog>> RunLog::Start(
    const std::string& output_dir, const std::vector<std::string>& files) {
  for (const std::string& file : files) {
    absl::Status emptied = WriteFileAtomically(output_dir + "/" + file, "");
    if (!emptied.ok()) return emptied;
  }
  absl::Status removed = RemoveEventFiles(output_dir + "/tb");
  if (!removed.ok()) return removed;
  absl::StatusOr<std::unique_ptr<EventFile>> events =
      EventFile::Create(output_dir + "/tb");
  if (!events.ok()) return events.status();
  return std::unique_ptr<RunLog>(new RunLog(output_dir, *std::move(events)));
}

absl::Status RunLog::Append(const std::string& file, int64_t step,
                            const nlohmann::json& line) {
  absl::Status appended =
      AppendLine(output_dir_ + "/" + file, line.dump() + "\n");
  if (!appended.ok()) return appended;
  const std::string prefix(absl::StripSuffix(file, ".jsonl"));
  return events_->AddScalars(step, NumericLeaves(line, prefix));
}

}  // namespace metarm
