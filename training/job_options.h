// The job spec's adapters to the lower packages' own options, which know
// nothing of the job schema (model/, reward/):
//
//   TransformerConfig config = ConfigFromSpec(job.policy(), vocab_size);
//   RewardTrainer trainer(model, RewardTrainerOptionsOf(job), learners);
#ifndef METARM_TRAINING_JOB_OPTIONS_H_
#define METARM_TRAINING_JOB_OPTIONS_H_

#include <cstdint>
#include <memory>

#include "model/transformer_config.h"
#include "ppo/ppo_learner.h"
#include "proto/job.pb.h"
#include "reward/reward_trainer.h"
#include "tasks/chat_format.h"
#include "tasks/chat_tokenizer.h"

namespace metarm {

// From the job's ModelSpec (defaults applied); `task_vocab_size` is used when
// spec.vocab_size is 0. d_ff 0 means 4 * d_model.
TransformerConfig ConfigFromSpec(const ModelSpec& spec,
                                 int64_t task_vocab_size);

// reward_training.mode as the reward trainer's objective.
RewardObjective ObjectiveOf(RewardMode mode);

// The settings of job.reward_training; shard_optimizer_state from
// job.topology.
RewardTrainerOptions RewardTrainerOptionsOf(const Job& job);

// `config` (the reward model's) with what its training mode needs:
// METARM_EXACT differentiates a gradient, which the fused attention kernels
// cannot, so its reward model uses the explicit attention.
TransformerConfig ForRewardTraining(const Job& job, TransformerConfig config);

// A phase's learning-rate schedule (optim/lr_schedule.h) from its spec, its
// learning rate and its number of steps.
LrSchedule LrScheduleOf(const TrainingSchedule& spec, double learning_rate,
                        int64_t total_steps);

// PPO's schedules over the run's minibatch steps: rounds ×
// iterations_per_round × epochs × rollout_batch_size / minibatch_size.
PpoSchedules PpoSchedulesOf(const Job& job);

// task.chat_template as the tasks' chat format.
ChatFormat ChatFormatOf(const TaskSpec& task);

// task.tokenizer, whose end token is task.chat_template's end of turn
// (tasks/chat_tokenizer.h). Errors name the tokenizer's path.
absl::StatusOr<std::unique_ptr<ChatTokenizer>> MakeJobTokenizer(
    const TaskSpec& task);

}  // namespace metarm

#endif  // METARM_TRAINING_JOB_OPTIONS_H_
