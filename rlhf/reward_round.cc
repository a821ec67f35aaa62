#include "rlhf/reward_round.h"

#include <iostream>

#include "absl/strings/str_format.h"
#include "rlhf/weight_transfer.h"
#include "rollout/preference_generator.h"
#include "training/job_options.h"
#include "training/model_factory.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

// The reward model's initial weights (seeded, or the pretrained folder's)
// and a new trainer over them.
absl::Status RestartRewardTrainer(const RunInputs& in, Communicator& learners,
                                  ScalarModel& reward_model,
                                  LearnerParts& learner) {
  torch::manual_seed(in.streams.Seed(Stream::kRewardInit));
  ScalarModel fresh(reward_model->config());
  METARM_RETURN_IF_ERROR(LoadPretrained(*fresh, fresh->config(),
                                        in.job.reward_model(), "reward_model"));
  CopyParameters(*fresh, *reward_model);
  learner.reward_trainer = std::make_unique<RewardTrainer>(
      reward_model, RewardTrainerOptionsOf(in.job), learners);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ResponseSet>> SampleMetaSet(const RunInputs& in,
                                                       LanguageModel& policy,
                                                       int round) {
  std::vector<std::string> prompts =
      in.data.TrainPrompts(in.job.task().num_train_prompts(),
                           in.streams.Seed(Stream::kMetaPrompts, round));
  METARM_ASSIGN_OR_RETURN(
      auto samples,
      SampleResponses(
          policy, prompts, in.job.reward_training().responses_per_prompt(),
          in.generation, in.streams.Seed(Stream::kMetaSamples, round),
          in.tokenizer),
      "round ", round, ": sampling the meta set");
  return MakeResponseSets(prompts, samples, in.tokenizer);
}

absl::Status TrainRewardModel(const RunInputs& in, int round,
                              Communicator& learners, ScalarModel& reward_model,
                              LearnerParts& learner, RunOutput& output,
                              int64_t first_step,
                              const RewardStepHook& after_step) {
  const RewardTraining& spec = in.job.reward_training();
  // Resumed inside the training: the trainer and its weights are the
  // checkpoint's.
  const bool resumed = first_step > 0;
  if (!resumed &&
      (learner.reward_trainer == nullptr || spec.restart_each_round())) {
    METARM_RETURN_IF_ERROR(
        RestartRewardTrainer(in, learners, reward_model, learner));
  }
  const int64_t per_epoch = RewardStepsPerEpoch(spec, learner.reward_data);
  const int64_t total = spec.epochs() * per_epoch;
  // The schedule spans this round's steps (the warm-up again each round).
  learner.reward_trainer->StartSchedule(
      LrScheduleOf(spec.schedule(), spec.learning_rate(), total), first_step);
  // Where the epoch in progress stood (its steps may all be done when the
  // stop came before its line was written).
  EpochTotals epoch_done =
      resumed ? learner.reward_epoch_so_far : EpochTotals{};
  const int first_epoch =
      resumed ? static_cast<int>((first_step - epoch_done.steps) / per_epoch)
              : 0;
  const bool writer = learners.rank() == 0;
  RewardStepStats means;
  int64_t steps = 0;
  for (uint32_t epoch = first_epoch; epoch < spec.epochs(); ++epoch) {
    const nlohmann::json position = {{"round", round}, {"epoch", epoch + 1}};
    RewardStepObserver log_step =
        writer ? LogRewardSteps(*output.log, position) : nullptr;
    auto on_step = [&](int64_t step, const RewardStepStats& stats,
                       const EpochTotals& so_far) {
      if (log_step) METARM_RETURN_IF_ERROR(log_step(step, stats, so_far));
      const int64_t steps_done = epoch * per_epoch + so_far.steps;
      if (steps_done == total) return absl::OkStatus();
      return after_step(steps_done, so_far);
    };
    METARM_ASSIGN_OR_RETURN(
        EpochTotals totals,
        TrainRewardEpoch(spec, in.streams.RewardDataOrder(round),
                         learner.reward_data, in.tokenizer, in.limits,
                         *learner.reward_trainer, learners,
                         static_cast<int>(epoch), on_step, epoch_done),
        "round ", round, ", reward-model epoch ", epoch + 1);
    epoch_done = EpochTotals{};
    means = totals.Means();
    steps = totals.steps;
    if (writer) {
      // One line of reward_model.jsonl: the epoch's means of the step
      // statistics, the measurements that tell the MetaRM variants apart.
      const int64_t step = (round - 1) * spec.epochs() + epoch;
      nlohmann::json line = {{"step", step + 1}, {"steps", steps}};
      line.update(position);
      AddRewardEpochMeans(means, line);
      METARM_RETURN_IF_ERROR(output.log->Append(kRewardEpochLog, line));
    }
  }
  if (writer) {
    std::cout << absl::StrFormat(
                     "round %d: reward model (%s) loss %.3f, train accuracy "
                     "%.3f (%.0f s)\n",
                     round, RewardMode_Name(spec.mode()), means.loss,
                     means.accuracy, SecondsSince(output.start))
              << std::flush;
  }
  return absl::OkStatus();
}

}  // namespace metarm
