#include "trainer/reward_model_job.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "comm/status_consensus.h"
#include "model/transformer_config.h"
#include "model/weights_io.h"
#include "nlohmann/json.hpp"
#include "reward/reward_data.h"
#include "reward/reward_gaps.h"
#include "reward/reward_trainer.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

struct RewardData {
  std::vector<PreferencePair> train;
  std::vector<PreferencePair> eval;
  std::vector<PreferencePair> shifted;
  std::vector<ResponseSet> meta;
  std::vector<ResponseSet> eval_responses;
};

// A permutation of 0..n-1 that depends only on (seed, stream): the same on
// every rank.
std::vector<int64_t> Permutation(int64_t n, uint64_t seed, uint64_t stream) {
  at::Generator generator =
      at::detail::createCPUGenerator(seed * 1000003 + stream);
  torch::Tensor order = torch::randperm(n, generator, torch::kInt64);
  return {order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + n};
}

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
    // Hold out a tenth of the training pairs, chosen by the seed.
    std::vector<int64_t> order =
        Permutation(static_cast<int64_t>(data.train.size()), job.seed(), 0);
    const size_t held_out = std::max<size_t>(1, data.train.size() / 10);
    std::vector<PreferencePair> train;
    for (size_t i = 0; i < order.size(); ++i) {
      (i < held_out ? data.eval : train).push_back(data.train[order[i]]);
    }
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

// This learner's share of the global indices `all`.
std::vector<int64_t> MyShare(const std::vector<int64_t>& all,
                             Communicator& learners) {
  auto [begin, count] = ShardRange(static_cast<int64_t>(all.size()),
                                   learners.rank(), learners.size());
  return {all.begin() + begin, all.begin() + begin + count};
}

struct EpochTotals {
  double loss = 0, accuracy = 0, objective = 0;
  int64_t steps = 0;
};

absl::StatusOr<EpochTotals> TrainEpoch(const Job& job, const RewardData& data,
                                       const Tokenizer& tokenizer,
                                       const SequenceLimits& limits,
                                       RewardTrainer& trainer,
                                       Communicator& learners, int epoch) {
  const RewardTraining& spec = job.reward_training();
  const int64_t n = spec.batch_size();
  const int64_t m = spec.meta_batch_size();
  std::vector<int64_t> order = Permutation(
      static_cast<int64_t>(data.train.size()), job.seed(), 1 + 2 * epoch);
  std::vector<int64_t> meta_order =
      data.meta.empty() ? std::vector<int64_t>()
                        : Permutation(static_cast<int64_t>(data.meta.size()),
                                      job.seed(), 2 + 2 * epoch);
  EpochTotals totals;
  const int64_t steps = static_cast<int64_t>(order.size()) / n;
  for (int64_t step = 0; step < steps; ++step) {
    std::vector<int64_t> global(order.begin() + step * n,
                                order.begin() + (step + 1) * n);
    PreferenceBatch pairs = MakePreferenceBatch(
        data.train, MyShare(global, learners), limits, tokenizer);
    MetaBatch meta;
    if (!meta_order.empty()) {
      // The meta set is cycled: it may hold fewer prompts than the epoch has
      // steps times m.
      std::vector<int64_t> global_meta;
      for (int64_t i = 0; i < m; ++i) {
        global_meta.push_back(meta_order[(step * m + i) % meta_order.size()]);
      }
      meta = MakeMetaBatch(data.meta, MyShare(global_meta, learners), limits,
                           tokenizer);
    }
    METARM_ASSIGN_OR_RETURN(
        RewardStepStats stats,
        trainer.Step(pairs, meta_order.empty() ? nullptr : &meta));
    totals.loss += stats.loss;
    totals.accuracy += stats.accuracy;
    totals.objective += stats.objective;
    ++totals.steps;
  }
  return totals;
}

nlohmann::json EvaluateEpoch(ScalarModel& model, const RewardData& data,
                             const SequenceLimits& limits,
                             const Tokenizer& tokenizer) {
  model->eval();
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
  model->train();
  return result;
}

absl::Status TrainOnLearner(const Job& job, const RewardData& data,
                            const Tokenizer& tokenizer,
                            Communicator& learners) {
  const SequenceLimits limits{job.task().max_prompt_tokens(),
                              job.task().max_response_tokens()};
  torch::manual_seed(job.seed());  // the same initial model on every learner
  ScalarModel model(ConfigFromSpec(job.reward_model(), tokenizer.vocab_size()));
  RewardTrainer trainer(
      model, RewardTrainerOptions::FromSpec(job.reward_training()), learners);
  const bool writer = learners.rank() == 0;
  const std::string metrics_path = job.output_dir() + "/rm_metrics.jsonl";
  const int epochs = static_cast<int>(job.reward_training().epochs());
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    METARM_ASSIGN_OR_RETURN(
        EpochTotals totals,
        TrainEpoch(job, data, tokenizer, limits, trainer, learners, epoch));
    if (!writer) continue;
    nlohmann::json line = EvaluateEpoch(model, data, limits, tokenizer);
    const double steps = std::max<int64_t>(1, totals.steps);
    line["epoch"] = epoch + 1;
    line["steps"] = totals.steps;
    line["mode"] = RewardMode_Name(job.reward_training().mode());
    line["train_loss"] = totals.loss / steps;
    line["train_accuracy"] = totals.accuracy / steps;
    line["meta_objective"] = totals.objective / steps;
    line["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    METARM_RETURN_IF_ERROR(AppendLine(metrics_path, line.dump() + "\n"));
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
    trained = TrainOnLearner(job, *data, **tokenizer, *groups.learners);
  }
  // Rollout workers have nothing to do in this job; they wait for the end.
  return AgreeOnStatus(*groups.world, trained);
}

}  // namespace metarm
