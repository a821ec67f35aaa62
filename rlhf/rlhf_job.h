// The RLHF job: SFT (round 0), then each round r = 1..rounds: sample the meta
// set from the current policy, train the reward model (VANILLA or METARM) on
// the original preference pairs with it, run PPO against it, evaluate.
//
// Ranks (cluster/roles.h): learners hold the policy, critic and reward model
// and run SFT, reward-model training and PPO updates, data parallel; rollout
// workers hold copies of the policy, the frozen SFT reference and the reward
// model, receive new weights from learner 0 after every update (bucketed
// broadcast, comm/weight_sync.h), sample and score the iteration's prompts and
// share the batch with the learners (rollout/rollout_worker.h). Synchronous
// and on-policy by default; with ppo.max_staleness = N the rollout workers
// sample N batches ahead of the learners, overlapping generation with the
// update (rlhf/ppo_iterations.h).
//
// Outputs in the output_dir, written by learner 0:
//   sft.jsonl           one line per SFT step (loss, learning rate,
//                       gradient norm)
//   metrics.jsonl       one line per PPO iteration
//   rounds.jsonl        one line per round (the evaluation)
//   reward_model.jsonl  one line per reward-model epoch (means of the steps)
//   reward_steps.jsonl  one line per reward-model step (loss, accuracy, the
//                       MetaRM diagnostics, learning rate, gradient norm)
//   eval_samples.jsonl  one line per round: held-out prompts, the policy's
//                       responses, their gold and proxy rewards
//   tb/                 the same numbers as TensorBoard scalars
//   policy.pt           the final policy's weights
//   checkpoints/        the last checkpoint.keep_last checkpoints
#ifndef METARM_RLHF_RLHF_JOB_H_
#define METARM_RLHF_RLHF_JOB_H_

#include "absl/status/status.h"
#include "cluster/roles.h"
#include "metrics/progress.h"
#include "proto/job.pb.h"
#include "util/stop_signals.h"

namespace metarm {

struct RlhfOptions {
  ProgressStyle progress = ProgressStyle::kPlain;  // learner 0's progress
  // Fail (FailedPrecondition) when the output folder holds no checkpoint.
  // Either way a run continues from the newest checkpoint there.
  bool require_resume = false;
  // SIGTERM / SIGUSR1 received by any rank stop the run at the next safe
  // point (after a PPO iteration, or at a round's end) with a checkpoint;
  // RunRlhfJob then returns StoppedBySignal's status on every rank. Null:
  // signals are not watched.
  const StopSignals* stop = nullptr;
};

// Collective over the world. Continues from the newest checkpoint in
// <output_dir>/checkpoints when there is one (rlhf/checkpoint.h); a
// checkpoint that cannot be used is an error before any work (DataLoss,
// FailedPrecondition or InvalidArgument, the same on every rank).
absl::Status RunRlhfJob(const Job& job, ProcessGroups& groups,
                        const RlhfOptions& options = {});

}  // namespace metarm

#endif  // METARM_RLHF_RLHF_JOB_H_
