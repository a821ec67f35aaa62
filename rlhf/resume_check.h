// Whether a job may resume from a checkpoint written by another version of
// its job file.
//
//   std::vector<std::string> conflicts = ResumeConflicts(saved_job, job, 2);
//   // e.g. {"ppo.clip_range", "policy.d_model"}: refuse, naming them
//
// Fields that only say where and how the run reports (name, output_dir,
// logging, checkpoint, eval), how it is laid out on ranks and in forward
// passes (topology, the micro-batch sizes, activation checkpointing: the
// numbers stay right, though float32 sums may round differently) and how
// many rounds it runs (rounds, not below the checkpoint's) may change; any
// other change would make the resumed run a different experiment than the one
// the checkpoint belongs to.
#ifndef METARM_RLHF_RESUME_CHECK_H_
#define METARM_RLHF_RESUME_CHECK_H_

#include <string>
#include <vector>

#include "proto/job.pb.h"

namespace metarm {

// The paths of the fields that differ and may not ("ppo.clip_range"), in
// field order; empty when resuming is right. `checkpoint_round` is the round
// the checkpoint was taken in.
std::vector<std::string> ResumeConflicts(const Job& saved, const Job& now,
                                         int checkpoint_round);

}  // namespace metarm

#endif  // METARM_RLHF_RESUME_CHECK_H_
