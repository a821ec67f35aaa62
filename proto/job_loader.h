// From job text to a complete, validated job: parse, apply defaults, validate.
//
//   absl::StatusOr<Job> job = JobFromText(text, "jobs/quickstart.pbtxt", ctx);
//   if (!job.ok()) std::cerr << job.status().message();  // every problem
#ifndef METARM_PROTO_JOB_LOADER_H_
#define METARM_PROTO_JOB_LOADER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/job.pb.h"
#include "proto/job_validation.h"

namespace metarm {

// InvalidArgument whose message holds every problem, one a line: parse errors
// as "<source>:<line>:<column>: ...", field problems as
// "job error: <field path>: <reason>". Relative data paths (the task's data
// files) are taken relative to `base_dir` when it is not empty (the
// job file's folder, so a job works from any working directory).
absl::StatusOr<Job> JobFromText(absl::string_view text,
                                absl::string_view source_name,
                                const ValidationContext& context,
                                const std::string& base_dir = "");

// Rewrites the job's relative data paths as `base_dir`/path.
void ResolveDataPaths(const std::string& base_dir, Job* job);

}  // namespace metarm

#endif  // METARM_PROTO_JOB_LOADER_H_
