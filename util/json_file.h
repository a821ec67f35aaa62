// A JSON file read through nlohmann-json, with errors that name the file.
//
//   absl::StatusOr<nlohmann::json> config = ReadJsonFile("gpt2/config.json");
#ifndef METARM_UTIL_JSON_FILE_H_
#define METARM_UTIL_JSON_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace metarm {

// NotFound (and the like) when unreadable, InvalidArgument naming the file
// and the parser's message when it is not JSON.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace metarm

#endif  // METARM_UTIL_JSON_FILE_H_
