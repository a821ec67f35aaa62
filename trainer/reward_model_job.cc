#include "trainer/reward_model_job.h"

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "comm/status_consensus.h"
#include "metrics/run_log.h"
#include "model/transformer_config.h"
#include "model/weights_io.h"
#include "nlohmann/json.hpp"
#include "reward/reward_data.h"
#include "reward/reward_gaps.h"
#include "reward/reward_trainer.h"
#include "tasks/tokenizer_factory.h"
#include "training/job_options.h"
#include "training/model_factory.h"
#include "training/reward_training.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

absl::StatusOr<RewardData> LoadRewardData(const Job& job,
                                          const Tokenizer& tokenizer) {
  const TaskSpec& task = job.task();
  RewardData data;
  METARM_ASSIGN_OR_RETURN(data.train,
                          ReadPreferencePairs(task.train_pairs(), tokenizer));
  if (!task.eval_pairs().empty()) {
    METARM_ASSIGN_OR_RETURN(data.eval,
                            ReadPreferencePairs(task.eval_pairs(), tokenizer));
  } else {
    // Hold out task.held_out_fraction of the training pairs, chosen by the
    // seed.
    const IndexSplit split =
        SplitOffHeldOut(static_cast<int64_t>(data.train.size()),
                        task.held_out_fraction(), job.seed());
    std::vector<PreferencePair> train;
    for (int64_t i : split.held_out) data.eval.push_back(data.train[i]);
    for (int64_t i : split.train) train.push_back(data.train[i]);
    data.train = std::move(train);
  }
  if (!task.shifted_pairs().empty()) {
    METARM_ASSIGN_OR_RETURN(
        data.shifted, ReadPreferencePairs(task.shifted_pairs(), tokenizer));
  }
  const int64_t k = job.reward_training().responses_per_prompt();
  if (!task.meta_responses().empty()) {
    METARM_ASSIGN_OR_RETURN(
        data.meta, ReadResponseSets(task.meta_responses(), tokenizer, k));
  }
  if (!task.eval_responses().empty()) {
    METARM_ASSIGN_OR_RETURN(
        data.eval_responses,
        ReadResponseSets(task.eval_responses(), tokenizer, k));
  }
  const RewardTraining& spec = job.reward_training();
  if (data.train.size() < spec.batch_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(task.train_pairs(), ": ", data.train.size(),
                     " training pairs, fewer than reward_training.batch_size (",
                     spec.batch_size(), ")"));
  }
  if (!data.meta.empty() && data.meta.size() < spec.meta_batch_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(task.meta_responses(), ": ", data.meta.size(),
                     " prompts, fewer than reward_training.meta_batch_size (",
                     spec.meta_batch_size(), ")"));
  }
  return data;
}

// The held-out measurements after an epoch (the scoring runs in eval mode).
nlohmann::json EvaluateEpoch(ScalarModel& model, const RewardData& data,
                             const SequenceLimits& limits,
                             const Tokenizer& tokenizer) {
  nlohmann::json result;
  result["eval_accuracy"] =
      EvaluateAccuracy(model, data.eval, limits, tokenizer);
  result["eval_pairs"] = data.eval.size();
  if (!data.shifted.empty()) {
    result["shifted_accuracy"] =
        EvaluateAccuracy(model, data.shifted, limits, tokenizer);
  }
  if (!data.eval_responses.empty()) {
    result["reward_gaps"] = RewardGapStatsToJson(ComputeRewardGaps(
        ScoreResponseSets(model, data.eval_responses, limits, tokenizer)));
  }
  return result;
}

absl::Status TrainOnLearner(const Job& job, const RewardData& data,
                            const Tokenizer& tokenizer, Communicator& learners,
                            const torch::Device& device) {
  const SequenceLimits limits{job.task().max_prompt_tokens(),
                              job.task().max_response_tokens()};
  METARM_ASSIGN_OR_RETURN(
      TransformerConfig config,
      ModelConfig(job.reward_model(), "reward_model", tokenizer, limits));
  config = ForRewardTraining(job, config);
  torch::manual_seed(job.seed());  // the same initial model on every learner
  ScalarModel model(config);
  METARM_RETURN_IF_ERROR(
      LoadPretrained(*model, config, job.reward_model(), "reward_model"));
  model->to(device);  // initialised on the CPU: the same weights anywhere
  RewardTrainer trainer(model, RewardTrainerOptionsOf(job), learners);
  const bool writer = learners.rank() == 0;
  std::unique_ptr<RunLog> log;
  if (writer) {
    METARM_ASSIGN_OR_RETURN(log, RunLog::Start(job.output_dir(),
                                               {{kRewardEpochLog, "epoch"},
                                                {kRewardStepLog, "step"}},
                                               job.logging().tensorboard()));
  }
  const int epochs = static_cast<int>(job.reward_training().epochs());
  trainer.StartSchedule(LrScheduleOf(
      job.reward_training().schedule(), job.reward_training().learning_rate(),
      epochs * RewardStepsPerEpoch(job.reward_training(), data)));
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    // Learner 0 logs every step's diagnostics (kRewardStepLog).
    RewardStepObserver log_step =
        writer ? LogRewardSteps(*log, {{"epoch", epoch + 1}}) : nullptr;
    METARM_ASSIGN_OR_RETURN(
        EpochTotals totals,
        TrainRewardEpoch(job.reward_training(), job.seed(), data, tokenizer,
                         limits, trainer, learners, epoch, log_step),
        "reward-model epoch ", epoch + 1);
    if (!writer) continue;
    nlohmann::json line = EvaluateEpoch(model, data, limits, tokenizer);
    line["epoch"] = epoch + 1;
    line["steps"] = totals.steps;
    line["mode"] = RewardMode_Name(job.reward_training().mode());
    AddRewardEpochMeans(totals.Means(), line);
    line["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    METARM_RETURN_IF_ERROR(log->Append(kRewardEpochLog, line));
    std::cout << absl::StrFormat(
                     "reward model epoch %d/%d: loss %.4f, train accuracy "
                     "%.3f, eval accuracy %.3f (%.1f s)\n",
                     epoch + 1, epochs, line["train_loss"].get<double>(),
                     line["train_accuracy"].get<double>(),
                     line["eval_accuracy"].get<double>(),
                     line["seconds"].get<double>())
              << std::flush;
  }
  if (writer) {
    METARM_RETURN_IF_ERROR(SaveWeights(*model, model->config(),
                                       job.output_dir() + "/reward_model.pt"));
    METARM_RETURN_IF_ERROR(ExportIfAsked(*model, config, job.reward_model(),
                                         "reward_model", job.output_dir()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunRewardModelJob(const Job& job, ProcessGroups& groups) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      MakeTokenizer(job.task().tokenizer());
  absl::StatusOr<RewardData> data = absl::InternalError("not a learner");
  absl::Status local = tokenizer.status();
  if (local.ok() && groups.learners != nullptr) {
    data = LoadRewardData(job, **tokenizer);
    local = data.status();
  }
  if (local.ok() && groups.world->rank() == 0) {
    local = MakeDirectories(job.output_dir());
  }
  // Every rank stops here if any learner could not read its data.
  METARM_RETURN_IF_ERROR(AgreeOnStatus(*groups.world, local));
  absl::Status trained = absl::OkStatus();
  if (groups.learners != nullptr) {
    trained = TrainOnLearner(job, *data, **tokenizer, *groups.learners,
                             groups.routing.device);
  }
  // Rollout workers have nothing to do in this job; they wait for the end.
  return AgreeOnStatus(*groups.world, trained);
}

}  // namespace metarm
