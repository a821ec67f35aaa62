#include "util/json_file.h"

#include "absl/strings/str_cat.h"
#include "util/file.h"

namespace metarm {

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not valid JSON: ", error.what()));
  }
}

}  // namespace metarm
