// The REWARD_MODEL_ONLY job: trains one reward model (VANILLA or METARM) on
// the task's preference pairs with the learner group, evaluates it after
// every epoch and saves it.
//
// Outputs in the job's output_dir (written by learner 0):
//   reward_model.jsonl one JSON line per epoch: losses, accuracies, the
//                      reward-gap diagnostic on task.eval_responses
//   reward_steps.jsonl one JSON line per step: loss, accuracy and the MetaRM
//                      diagnostics of that step
//   tb/                the same numbers for TensorBoard
//   reward_model.pt    the weights (model/weights_io.h)
#ifndef METARM_TRAINER_REWARD_MODEL_JOB_H_
#define METARM_TRAINER_REWARD_MODEL_JOB_H_

#include "absl/status/status.h"
#include "cluster/roles.h"
#include "proto/job.pb.h"

namespace metarm {

// Collective over the world. Bad data (a file that does not parse) is an
// InvalidArgument/NotFound/DataLoss status on every rank, before training.
absl::Status RunRewardModelJob(const Job& job, ProcessGroups& groups);

}  // namespace metarm

#endif  // METARM_TRAINER_REWARD_MODEL_JOB_H_
