// One job for every rank: rank 0 reads, parses and validates the job file
// and checks the world size; every rank then gets rank 0's verdict and, when
// it is good, the same complete job. Ranks never judge the file on their own,
// so they cannot disagree (a file visible on one node only, say) and leave
// each other waiting.
//
//   absl::StatusOr<Job> job = LoadJobEverywhere(path, world, context);
//   // not ok: the same InvalidArgument/NotFound on every rank
#ifndef METARM_TRAINER_JOB_DISTRIBUTION_H_
#define METARM_TRAINER_JOB_DISTRIBUTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "proto/job.pb.h"
#include "proto/job_validation.h"

namespace metarm {

// Collective over `world`. The status message on failure holds every
// problem, one a line ("job error: ..."), on every rank.
absl::StatusOr<Job> LoadJobEverywhere(const std::string& path,
                                      Communicator& world,
                                      const ValidationContext& context);

// Rank 0's part alone: read, parse, default, validate (data paths relative to
// the job file's real folder), and check the world size unless `world_size`
// is 0.
absl::StatusOr<Job> LoadJobFile(const std::string& path, int world_size,
                                const ValidationContext& context);

}  // namespace metarm

#endif  // METARM_TRAINER_JOB_DISTRIBUTION_H_
