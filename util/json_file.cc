#include "util/json_file.h"

#include "absl/strings/str_cat.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  METARM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not valid JSON: ", error.what()));
  }
}

}  // namespace metarm
