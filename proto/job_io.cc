#include "proto/job_io.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace metarm {
namespace {

// Collects every parser complaint with its position. Protobuf counts lines
// and columns from 0; people count from 1.
class CollectingErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectingErrorCollector(absl::string_view source)
      : source_(source) {}

  void AddError(int line, int column, const std::string& message) override {
    errors_.push_back(
        absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
  }

  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::Status ParseTextInto(absl::string_view text,
                           absl::string_view source_name,
                           google::protobuf::Message* message) {
  CollectingErrorCollector collector(source_name);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  const bool parsed = parser.ParseFromString(std::string(text), message);
  if (!parsed || !collector.errors().empty()) {
    if (collector.errors().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name, ": not a valid ",
                       message->GetDescriptor()->name(), " (text format)"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(collector.errors(), "\n"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Job> ParseJobText(absl::string_view text,
                                 absl::string_view source_name) {
  Job job;
  absl::Status parsed = ParseTextInto(text, source_name, &job);
  if (!parsed.ok()) return parsed;
  return job;
}

std::string JobToText(const Job& job) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(job, &text);
  return text;
}

}  // namespace metarm
