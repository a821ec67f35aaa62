#include "proto/job_loader.h"

#include "absl/strings/str_cat.h"
#include "proto/job_defaults.h"
#include "proto/job_io.h"

namespace metarm {

absl::StatusOr<Job> JobFromText(absl::string_view text,
                                absl::string_view source_name,
                                const ValidationContext& context) {
  absl::StatusOr<Job> job = ParseJobText(text, source_name);
  if (!job.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job error: ", job.status().message()));
  }
  ApplyJobDefaults(&*job);
  std::vector<std::string> problems = ValidateJob(*job, context);
  if (!problems.empty()) {
    std::string message = FormatJobErrors(problems);
    message.pop_back();  // the trailing newline
    return absl::InvalidArgumentError(message);
  }
  return job;
}

}  // namespace metarm
