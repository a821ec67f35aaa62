#include "rlhf/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/crc32c.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

namespace fs = std::filesystem;

constexpr char kPrefix[] = "ckpt-";
constexpr char kTemporarySuffix[] = ".tmp";
constexpr char kManifest[] = "manifest.json";
constexpr int kFormat = 1;

std::string FolderName(int64_t sequence) {
  return absl::StrFormat("%s%08d", kPrefix, sequence);
}

// Flushes a file's or a folder's contents (a folder: its entries) to disk.
absl::Status FlushToDisk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot flush to disk: ", reason));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status FilesystemError(const std::string& what, const std::string& path,
                             const std::error_code& error) {
  return absl::UnavailableError(
      absl::StrCat(path, ": cannot ", what, ": ", error.message()));
}

// Complete checkpoints under `root` by sequence number, newest first.
std::vector<std::pair<int64_t, std::string>> CompleteCheckpoints(
    const std::string& root) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const std::string name = entry.path().filename().string();
    int64_t sequence = 0;
    if (!absl::StartsWith(name, kPrefix) ||
        absl::EndsWith(name, kTemporarySuffix) ||
        !absl::SimpleAtoi(name.substr(sizeof(kPrefix) - 1), &sequence)) {
      continue;
    }
    found.emplace_back(sequence, entry.path().string());
  }
  std::sort(found.rbegin(), found.rend());
  return found;
}

absl::Status VerifyFiles(const std::string& folder,
                         const nlohmann::json& files) {
  for (const auto& [name, expected] : files.items()) {
    const std::string path = folder + "/" + name;
    absl::StatusOr<std::string> bytes = ReadFile(path);
    if (!bytes.ok()) {
      return absl::DataLossError(absl::StrCat(
          "checkpoint file ", path,
          " is missing or unreadable: ", bytes.status().message()));
    }
    const int64_t size = expected.at("bytes").get<int64_t>();
    if (static_cast<int64_t>(bytes->size()) != size) {
      return absl::DataLossError(
          absl::StrCat("checkpoint file ", path, " is truncated or extended: ",
                       bytes->size(), " bytes, the manifest says ", size));
    }
    const uint32_t crc = expected.at("crc32c").get<uint32_t>();
    if (Crc32c(*bytes) != crc) {
      return absl::DataLossError(
          absl::StrCat("checkpoint file ", path,
                       " is corrupt: its CRC-32C does not match the manifest"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CheckpointWriter> CheckpointWriter::Begin(
    const std::string& root, int64_t sequence) {
  const std::string final = root + "/" + FolderName(sequence);
  const std::string temporary = final + kTemporarySuffix;
  std::error_code error;
  fs::remove_all(temporary, error);
  if (error) return FilesystemError("remove", temporary, error);
  METARM_RETURN_IF_ERROR(MakeDirectories(temporary));
  return CheckpointWriter(root, temporary, final, sequence);
}

std::string CheckpointWriter::PathOf(const std::string& name) const {
  return temporary_ + "/" + name;
}

absl::Status CheckpointWriter::Commit(const nlohmann::json& state) {
  nlohmann::json files = nlohmann::json::object();
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(temporary_, error)) {
    const std::string path = entry.path().string();
    METARM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    METARM_RETURN_IF_ERROR(FlushToDisk(path));
    files[entry.path().filename().string()] = {{"bytes", bytes.size()},
                                               {"crc32c", Crc32c(bytes)}};
  }
  if (error) return FilesystemError("list", temporary_, error);
  nlohmann::json manifest = {{"format", kFormat},
                             {"sequence", sequence_},
                             {"files", files},
                             {"state", state}};
  METARM_RETURN_IF_ERROR(
      WriteFileAtomically(PathOf(kManifest), manifest.dump(1) + "\n"));
  for (const std::string& folder : {temporary_, root_}) {
    METARM_RETURN_IF_ERROR(FlushToDisk(folder));
  }
  fs::remove_all(final_, error);  // a leftover of an earlier, failed run
  fs::rename(temporary_, final_, error);
  if (error) return FilesystemError("rename into place", temporary_, error);
  return FlushToDisk(root_);
}

absl::StatusOr<std::optional<Checkpoint>> FindLatestCheckpoint(
    const std::string& root) {
  std::vector<std::pair<int64_t, std::string>> found =
      CompleteCheckpoints(root);
  if (found.empty()) return std::nullopt;
  Checkpoint checkpoint;
  checkpoint.sequence = found.front().first;
  checkpoint.path = found.front().second;
  const std::string manifest_path = checkpoint.PathOf(kManifest);
  absl::StatusOr<std::string> text = ReadFile(manifest_path);
  if (!text.ok()) {
    return absl::DataLossError(
        absl::StrCat("checkpoint manifest ", manifest_path,
                     " is unreadable: ", text.status().message()));
  }
  nlohmann::json manifest =
      nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object() ||
      !manifest.contains("files") || !manifest.contains("state") ||
      manifest.value("format", 0) != kFormat) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint manifest ", manifest_path, " is not valid JSON of format ",
        kFormat, " with files and state"));
  }
  try {
    METARM_RETURN_IF_ERROR(VerifyFiles(checkpoint.path, manifest["files"]));
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint manifest ", manifest_path, " is malformed: ", e.what()));
  }
  checkpoint.state = manifest["state"];
  return checkpoint;
}

absl::Status PruneCheckpoints(const std::string& root, int keep_last) {
  std::error_code error;
  std::vector<std::pair<int64_t, std::string>> found =
      CompleteCheckpoints(root);
  for (size_t i = std::max(0, keep_last); i < found.size(); ++i) {
    fs::remove_all(found[i].second, error);
    if (error) return FilesystemError("remove", found[i].second, error);
  }
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, kPrefix) &&
        absl::EndsWith(name, kTemporarySuffix)) {
      fs::remove_all(entry.path(), error);
      if (error) return FilesystemError("remove", entry.path(), error);
    }
  }
  return absl::OkStatus();
}

}  // namespace metarm
