#include "metrics/run_log.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "util/file.h"
#include "util/status_macros.h"

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

// The first `count` complete lines of the file at `path`, each with its
// newline. A last line without its newline was cut short by a crash and
// does not count.
absl::StatusOr<std::vector<std::string>> FirstLines(const std::string& path,
                                                    int64_t count) {
  std::vector<std::string> lines;
  if (count == 0) return lines;
  METARM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  size_t start = 0;
  while (static_cast<int64_t>(lines.size()) < count) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      return absl::DataLossError(
          absl::StrCat(path, ": holds ", lines.size(),
                       " complete lines, fewer than the checkpoint recorded (",
                       count, "): the log was truncated or replaced"));
    }
    lines.push_back(text.substr(start, end + 1 - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

std::vector<std::pair<std::string, double>> NumericLeaves(
    const nlohmann::json& value, const std::string& prefix) {
  std::vector<std::pair<std::string, double>> leaves;
  CollectLeaves(value, prefix, leaves);
  return leaves;
}

absl::StatusOr<std::unique_ptr<RunLog>> RunLog::Start(
    const std::string& output_dir, const std::vector<LogFile>& files,
    bool tensorboard) {
  std::unique_ptr<RunLog> log(new RunLog(output_dir, files));
  for (const LogFile& file : files) {
    METARM_RETURN_IF_ERROR(
        WriteFileAtomically(output_dir + "/" + file.name, ""));
    log->line_counts_[file.name] = 0;
  }
  METARM_RETURN_IF_ERROR(log->StartEvents(tensorboard));
  return log;
}

absl::StatusOr<std::unique_ptr<RunLog>> RunLog::Resume(
    const std::string& output_dir, const std::vector<LogFile>& files,
    bool tensorboard, const std::map<std::string, int64_t>& line_counts) {
  std::unique_ptr<RunLog> log(new RunLog(output_dir, files));
  // Read everything first, so that a missing line changes nothing.
  std::map<std::string, std::vector<std::string>> kept;
  for (const LogFile& file : files) {
    auto count = line_counts.find(file.name);
    METARM_ASSIGN_OR_RETURN(
        std::vector<std::string> lines,
        FirstLines(output_dir + "/" + file.name,
                   count == line_counts.end() ? 0 : count->second));
    kept[file.name] = std::move(lines);
  }
  METARM_RETURN_IF_ERROR(log->StartEvents(tensorboard));
  for (const LogFile& file : files) {
    METARM_RETURN_IF_ERROR(WriteFileAtomically(
        output_dir + "/" + file.name, absl::StrJoin(kept[file.name], "")));
    log->line_counts_[file.name] = kept[file.name].size();
    for (const std::string& line : kept[file.name]) {
      METARM_RETURN_IF_ERROR(
          log->AddToEvents(file, nlohmann::json::parse(line, nullptr, false)));
    }
  }
  return log;
}

absl::Status RunLog::StartEvents(bool tensorboard) {
  absl::Status removed = RemoveEventFiles(output_dir_ + "/tb");
  if (!removed.ok() || !tensorboard) return removed;
  METARM_ASSIGN_OR_RETURN(std::unique_ptr<EventFile> events,
                          EventFile::Create(output_dir_ + "/tb"));
  events_ = std::move(events);
  return absl::OkStatus();
}

const LogFile* RunLog::Find(const std::string& name) const {
  for (const LogFile& file : files_) {
    if (file.name == name) return &file;
  }
  return nullptr;
}

absl::Status RunLog::AddToEvents(const LogFile& file,
                                 const nlohmann::json& line) {
  if (events_ == nullptr || file.step_key.empty() || !line.is_object()) {
    return absl::OkStatus();
  }
  const int64_t step = line.value(file.step_key, int64_t{0});
  const std::string prefix(absl::StripSuffix(file.name, ".jsonl"));
  return events_->AddScalars(step, NumericLeaves(line, prefix));
}

absl::Status RunLog::Append(const std::string& file,
                            const nlohmann::json& line) {
  const LogFile* spec = Find(file);
  if (spec == nullptr) {
    return absl::InternalError(absl::StrCat("no log file named ", file));
  }
  // Sampled text need not be valid UTF-8; JSON strings must be.
  METARM_RETURN_IF_ERROR(AppendLine(
      output_dir_ + "/" + file,
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
          "\n"));
  ++line_counts_[file];
  return AddToEvents(*spec, line);
}

}  // namespace metarm
