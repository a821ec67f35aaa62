// libFuzzer target: the job-spec parser, defaults and validator on arbitrary
// text. Whatever the input, parsing returns a Job or an error, and
// validation of a parsed job returns a list of problems: no crash, no
// undefined behaviour, no leak (run under ASan and UBSan).
#include <cstddef>
#include <cstdint>
#include <string>

#include "proto/job_defaults.h"
#include "proto/job_io.h"
#include "proto/job_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<metarm::Job> job = metarm::ParseJobText(text, "fuzz.pbtxt");
  if (!job.ok()) {
    // Every parse error names the source.
    if (job.status().message().find("fuzz.pbtxt") == std::string::npos) {
      __builtin_trap();
    }
    return 0;
  }
  metarm::ApplyJobDefaults(&*job);
  metarm::ValidationContext context{{"sort", "reverse", "preference_file"}};
  for (const std::string& problem : metarm::ValidateJob(*job, context)) {
    // Every problem is "<field>: <reason>".
    if (problem.find(": ") == std::string::npos) __builtin_trap();
  }
  (void)metarm::RequiredWorldSize(job->topology());
  return 0;
}
