// Reading JSON-lines files (plain or gzip) record by record, with every
// error naming the file and the line: the one reader behind the preference
// pairs, response sets, prompts and demonstrations.
//
//   absl::StatusOr<std::vector<Pair>> pairs = ReadJsonLines<Pair>(
//       path, [](const nlohmann::json& object) { return ParsePair(object); });
#ifndef METARM_TASKS_JSON_LINES_H_
#define METARM_TASKS_JSON_LINES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "util/excerpt.h"
#include "util/file.h"
#include "util/gzip_file.h"
#include "util/status_macros.h"

namespace metarm {

// "path:line: reason", the reason cut to a readable excerpt (a parser's
// message may quote the whole line, which may be megabytes long).
inline absl::Status LineError(const std::string& path, int line,
                              const std::string& reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ":", line, ": ", Excerpt(reason)));
}

// Reads `path` line by line, parsing each non-blank line as a JSON object and
// handing it to `parse`; errors carry the path and line. A file with no
// record is an error.
template <typename Record>
absl::StatusOr<std::vector<Record>> ReadJsonLines(
    const std::string& path,
    const std::function<absl::StatusOr<Record>(const nlohmann::json&)>& parse) {
  using Json = nlohmann::json;
  METARM_ASSIGN_OR_RETURN(std::string contents, ReadMaybeGzipped(path));
  std::vector<Record> records;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    Json object;
    try {
      object = Json::parse(line.begin(), line.end());
    } catch (const Json::exception& error) {
      // parse_error, and out_of_range for a number too large to hold (found
      // by tests/fuzz/preference_data_fuzzer.cc).
      return LineError(path, line_number,
                       absl::StrCat("invalid JSON: ", error.what()));
    }
    if (!object.is_object()) {
      return LineError(
          path, line_number,
          absl::StrCat("expected a JSON object, got ", object.type_name()));
    }
    absl::StatusOr<Record> record = parse(object);
    if (!record.ok()) {
      return LineError(path, line_number,
                       std::string(record.status().message()));
    }
    records.push_back(*std::move(record));
  }
  if (records.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no records (the file is empty)"));
  }
  return records;
}

}  // namespace metarm

#endif  // METARM_TASKS_JSON_LINES_H_
