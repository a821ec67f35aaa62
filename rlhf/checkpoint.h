// Saving an RLHF run's whole state, and restoring it on every rank.
//
//   // every learner, at a checkpoint point (learner 0 writes):
//   METARM_RETURN_IF_ERROR(SaveRlhfCheckpoint(job, learners, models, learner,
//                                             counters, output, at));
//   // every rank, before the run starts:
//   absl::StatusOr<std::optional<RunPosition>> at = RestoreRlhfCheckpoint(
//       in, ranks, models, learner, counters, output);
//
// A checkpoint (rlhf/checkpoint_store.h, under <output_dir>/checkpoints)
// holds the policy, the frozen reference, the reward model and the critic;
// the reward model's and PPO's optimizer states (and SFT's, for one written
// inside SFT); the original preference
// pairs, the held-out pairs and the meta set in use; the job spec; and the
// counters: position, policy version, KL coefficient, skipped and stale
// counts, and how many lines each log had. The random state needs no file:
// every random draw comes from a stream seeded by (job seed, purpose,
// round, iteration, rank) (util/random_streams.h), so a position fixes it.
#ifndef METARM_RLHF_CHECKPOINT_H_
#define METARM_RLHF_CHECKPOINT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "rlhf/run_parts.h"

namespace metarm {

// The checkpoints' folder of a job.
std::string CheckpointRoot(const Job& job);

// The files of every log, with the key of their TensorBoard step.
std::vector<LogFile> RlhfLogFiles();

// Learner 0 writes a new checkpoint at `at` and prunes the old ones.
// Collective over the learners: sharded optimizers gather their state on
// learner 0 (optim/data_parallel_optimizer.h); the other learners return
// after that.
absl::Status SaveRlhfCheckpoint(const Job& job, Communicator& learners,
                                RlhfModels& models, LearnerParts& learner,
                                const PolicyCounters& counters,
                                RunOutput& output, RunPosition at);

// Every rank: finds the newest checkpoint and restores from it what the
// rank holds (models everywhere; trainers, optimizers and data on the
// learners; the logs on learner 0). nullopt when there is none.
// FailedPrecondition when the job file changed in a way that makes resuming
// wrong (naming the fields); DataLoss for a corrupt checkpoint;
// InvalidArgument for one of another model architecture. On any error
// nothing in the output folder changes.
absl::StatusOr<std::optional<RunPosition>> RestoreRlhfCheckpoint(
    const RunInputs& in, const RankGroups& ranks, RlhfModels& models,
    LearnerParts& learner, PolicyCounters& counters, RunOutput& output);

}  // namespace metarm

#endif  // METARM_RLHF_CHECKPOINT_H_
