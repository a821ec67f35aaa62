#include "util/archive_file.h"

#include "absl/strings/str_cat.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {

absl::StatusOr<std::string> SerializeArchive(
    torch::serialize::OutputArchive& archive, const std::string& path) {
  std::string bytes;
  try {
    archive.save_to([&bytes](const void* data, size_t size) -> size_t {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat(
        path, ": cannot serialize: ", error.what_without_backtrace()));
  }
  return bytes;
}

absl::Status WriteArchiveAtomically(torch::serialize::OutputArchive& archive,
                                    const std::string& path) {
  METARM_ASSIGN_OR_RETURN(std::string bytes, SerializeArchive(archive, path));
  return WriteFileAtomically(path, bytes);
}

}  // namespace metarm
