// Saving an RLHF run's whole state, and restoring it on every rank.
//
//   // every learner, at a checkpoint point (learner 0 writes):
//   METARM_RETURN_IF_ERROR(SaveRlhfCheckpoint(s, {round, iterations_done}));
//   // every rank, before the run starts:
//   absl::StatusOr<std::optional<RunPosition>> at = RestoreRlhfCheckpoint(s);
//
// A checkpoint (trainer/checkpoint_store.h, under <output_dir>/checkpoints)
// holds the policy, the frozen reference, the reward model and the critic;
// the reward model's and PPO's optimizer states; the original preference
// pairs, the held-out pairs and the meta set in use; the job spec; and the
// counters: position, policy version, KL coefficient, skipped and stale
// counts, and how many lines each log had. The random state needs no file:
// every random draw comes from a generator seeded by (job seed, purpose,
// round, iteration, rank) (rlhf_job.cc's StreamSeed), so a position fixes it.
#ifndef METARM_TRAINER_RLHF_CHECKPOINT_H_
#define METARM_TRAINER_RLHF_CHECKPOINT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "trainer/rlhf_state.h"

namespace metarm {

// Where a run stands: after `iterations_done` PPO iterations of `round`.
// Round 0 is after SFT (the reference and the original pairs made); a round
// with all its iterations done has been evaluated too.
struct RunPosition {
  int round = 0;
  int iterations_done = 0;
};

// The checkpoints' folder of a job.
std::string CheckpointRoot(const Job& job);

// Learner 0 writes a new checkpoint at `at` and prunes the old ones.
// Collective over the learners: sharded optimizers gather their state on
// learner 0 (optim/data_parallel_optimizer.h); the other learners return
// after that.
absl::Status SaveRlhfCheckpoint(RlhfState& s, RunPosition at);

// Every rank: finds the newest checkpoint and restores from it what the
// rank holds (models everywhere; optimizers, data and the logs on the
// learners). nullopt when there is none. FailedPrecondition when the job
// file changed in a way that makes resuming wrong (naming the fields);
// DataLoss for a corrupt checkpoint; InvalidArgument for one of another
// model architecture. On any error nothing in the output folder changes.
absl::StatusOr<std::optional<RunPosition>> RestoreRlhfCheckpoint(RlhfState& s);

// The files of every log, with the key of their TensorBoard step.
std::vector<LogFile> RlhfLogFiles();

}  // namespace metarm

#endif  // METARM_TRAINER_RLHF_CHECKPOINT_H_
