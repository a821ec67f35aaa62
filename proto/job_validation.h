// Validation of a whole job before any work starts.
//
//   ApplyJobDefaults(&job);
//   std::vector<std::string> problems = ValidateJob(job, context);
//   // each: "<field path>: <reason>", e.g.
//   //   "ppo.clip_range: must be in (0, 1), got 1.5"
//   absl::Status status = CheckWorldSize(job, world_size);
//
// Every problem is reported, not only the first, so a user fixes a job file
// in one pass.
#ifndef METARM_PROTO_JOB_VALIDATION_H_
#define METARM_PROTO_JOB_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/job.pb.h"

namespace metarm {

// What validation needs from outside the job itself.
struct ValidationContext {
  // Task names the trainer knows (task.name must be one of them).
  std::vector<std::string> known_tasks;
};

// Checks every field of a job whose defaults were applied. Returns one line
// per problem, "<field path>: <reason>"; empty when the job is valid. Data
// files the job names must exist.
std::vector<std::string> ValidateJob(const Job& job,
                                     const ValidationContext& context);

// The number of MPI ranks the job's topology asks for.
int RequiredWorldSize(const Topology& topology);

// InvalidArgument naming both numbers when `world_size` is not what the
// topology asks for.
absl::Status CheckWorldSize(const Job& job, int world_size);

// Formats problems as the trainer prints them: "job error: <problem>" a line.
std::string FormatJobErrors(const std::vector<std::string>& problems);

}  // namespace metarm

#endif  // METARM_PROTO_JOB_VALIDATION_H_
