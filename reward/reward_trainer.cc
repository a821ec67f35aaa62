#include "reward/reward_trainer.h"

#include "comm/gradient_sync.h"
#include "reward/losses.h"

namespace metarm {

RewardTrainerOptions RewardTrainerOptions::FromSpec(
    const RewardTraining& spec) {
  RewardTrainerOptions options;
  options.mode = spec.mode();
  options.eta = spec.eta();
  options.learning_rate = spec.learning_rate();
  options.weight_decay = spec.weight_decay();
  return options;
}

std::pair<torch::Tensor, torch::Tensor> ScorePairs(
    ScalarModel& model, const PreferenceBatch& pairs) {
  TokenBatch both = Concatenate(pairs.chosen, pairs.rejected);
  torch::Tensor scores = model->Score(both.tokens, both.mask);
  const int64_t n = pairs.size();
  return {scores.narrow(0, 0, n), scores.narrow(0, n, n)};
}

torch::Tensor ScoreMetaBatch(ScalarModel& model, const MetaBatch& meta) {
  return model->Score(meta.responses.tokens, meta.responses.mask)
      .view({meta.prompts(), meta.responses_per_prompt});
}

std::pair<int64_t, int64_t> ShardRange(int64_t global_size, int rank,
                                       int group_size) {
  const int64_t share = global_size / group_size;
  return {share * rank, share};
}

RewardTrainer::RewardTrainer(ScalarModel model,
                             const RewardTrainerOptions& options,
                             Communicator& learners)
    : model_(std::move(model)),
      options_(options),
      learners_(learners),
      optimizer_(model_->parameters(),
                 torch::optim::AdamWOptions(options.learning_rate)
                     .weight_decay(options.weight_decay)) {}

absl::StatusOr<std::vector<torch::Tensor>> RewardTrainer::MetaProcess(
    const MetaBatch& meta, double* objective) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  optimizer_.zero_grad();
  torch::Tensor j = DifferenceObjective(ScoreMetaBatch(model_, meta));
  j.backward();
  *objective = j.item<double>();
  // ∇J averaged over the learners: every learner moves to the same θ'.
  absl::Status synced = AverageGradients(parameters, learners_);
  if (!synced.ok()) return synced;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> backup;
  backup.reserve(parameters.size());
  for (torch::Tensor& parameter : parameters) {
    backup.push_back(parameter.detach().clone());
    // Gradient ascent on J: θ' = θ + η ∇J(θ).
    parameter.add_(parameter.grad(), options_.eta);
  }
  return backup;
}

absl::StatusOr<RewardStepStats> RewardTrainer::Step(
    const PreferenceBatch& pairs, const MetaBatch* meta) {
  RewardStepStats stats;
  std::vector<torch::Tensor> parameters = model_->parameters();
  const bool meta_step =
      options_.mode == METARM && meta != nullptr && meta->prompts() > 0;
  std::vector<torch::Tensor> backup;
  if (meta_step) {
    absl::StatusOr<std::vector<torch::Tensor>> saved =
        MetaProcess(*meta, &stats.objective);
    if (!saved.ok()) return saved.status();
    backup = *std::move(saved);
  }
  // Algorithm 1, step 4: g = ∇L(θ') on the preference batch (θ' = θ for
  // VANILLA).
  optimizer_.zero_grad();
  auto [chosen, rejected] = ScorePairs(model_, pairs);
  torch::Tensor loss = BradleyTerryLoss(chosen, rejected);
  loss.backward();
  stats.loss = loss.item<double>();
  stats.accuracy = PairwiseAccuracy(chosen.detach(), rejected.detach());
  absl::Status synced = AverageGradients(parameters, learners_);
  if (!synced.ok()) return synced;
  // Step 5: restore θ and take the optimizer step at θ with g. The first-order
  // approximation: no gradient flows through the meta-process.
  if (meta_step) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      parameters[i].copy_(backup[i]);
    }
  }
  optimizer_.step();

  if (learners_.size() > 1) {
    torch::Tensor summary = torch::tensor(
        {stats.loss, stats.accuracy, stats.objective}, torch::kFloat64);
    absl::Status averaged = learners_.AllReduce(summary, ReduceOp::kAverage);
    if (!averaged.ok()) return averaged;
    stats.loss = summary[0].item<double>();
    stats.accuracy = summary[1].item<double>();
    stats.objective = summary[2].item<double>();
  }
  return stats;
}

}  // namespace metarm
