// The reward-model half of an RLHF round (MetaRM Algorithm 1 on the current
// policy's distribution): sample the meta set S from the current policy,
// then train the reward model on the original pairs D with S.
//
//   learner.reward_data.meta = SampleMetaSet(in, models.policy, round);
//   METARM_RETURN_IF_ERROR(TrainRewardModel(in, round, learners,
//       models.reward_model, learner, output, /*first_step=*/0, after_step));
#ifndef METARM_RLHF_REWARD_ROUND_H_
#define METARM_RLHF_REWARD_ROUND_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "comm/communicator.h"
#include "rlhf/run_parts.h"

namespace metarm {

// The meta set of round `round`: reward_training.responses_per_prompt
// responses of `policy` to each of task.num_train_prompts prompts (no
// labels). The same on every learner.
absl::StatusOr<std::vector<ResponseSet>> SampleMetaSet(const RunInputs& in,
                                                       LanguageModel& policy,
                                                       int round);

// Called after each reward-model step but the round's last, with the
// round's steps done and the epoch's totals so far: the learners' safe
// point inside the training. A non-OK status ends the training with it.
using RewardStepHook = std::function<absl::Status(
    int64_t steps_done, const EpochTotals& epoch_so_far)>;

// Learners: reward_training.epochs epochs on learner.reward_data (VANILLA,
// METARM, METARM_EXACT or GAP_REGULARIZED), from the round's step
// `first_step` (0, or where a checkpoint inside the training was written:
// then the trainer, its weights and learner.reward_epoch_so_far are the
// checkpoint's). The trainer is made on the first round, and again from the
// initial weights each round with restart_each_round. Learner 0 logs each
// step (reward_steps.jsonl), each epoch's means (reward_model.jsonl) and
// prints the last epoch's.
absl::Status TrainRewardModel(const RunInputs& in, int round,
                              Communicator& learners, ScalarModel& reward_model,
                              LearnerParts& learner, RunOutput& output,
                              int64_t first_step,
                              const RewardStepHook& after_step);

}  // namespace metarm

#endif  // METARM_RLHF_REWARD_ROUND_H_
