#include "reward/reward_trainer.h"

#include <cmath>

#include "comm/gradient_sync.h"
#include "reward/losses.h"

namespace metarm {

RewardTrainerOptions RewardTrainerOptions::FromSpec(const RewardTraining& spec,
                                                    const Topology& topology) {
  RewardTrainerOptions options;
  options.mode = spec.mode();
  options.eta = spec.eta();
  options.gap_lambda = spec.gap_lambda();
  options.learning_rate = spec.learning_rate();
  options.weight_decay = spec.weight_decay();
  options.shard_optimizer_state = topology.shard_optimizer_state();
  return options;
}

std::pair<torch::Tensor, torch::Tensor> ScorePairs(
    ScalarModel& model, const PreferenceBatch& pairs) {
  TokenBatch both =
      Concatenate(pairs.chosen, pairs.rejected).To(ModuleDevice(*model));
  torch::Tensor scores = model->Score(both.tokens, both.mask);
  const int64_t n = pairs.size();
  return {scores.narrow(0, 0, n), scores.narrow(0, n, n)};
}

torch::Tensor ScoreMetaBatch(ScalarModel& model, const MetaBatch& meta) {
  const TokenBatch responses = meta.responses.To(ModuleDevice(*model));
  return model->Score(responses.tokens, responses.mask)
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
      optimizer_(
          MakeModelAdamW(model_->parameters(),
                         torch::optim::AdamWOptions(options.learning_rate)
                             .weight_decay(options.weight_decay),
                         learners, options.shard_optimizer_state)) {}

namespace {

// d(output)/d(parameters); zeros where a parameter does not reach it.
std::vector<torch::Tensor> Gradients(const std::vector<torch::Tensor>& outputs,
                                     const std::vector<torch::Tensor>& inputs,
                                     const std::vector<torch::Tensor>& weights,
                                     bool create_graph) {
  std::vector<torch::Tensor> grads = torch::autograd::grad(
      outputs, inputs, weights, /*retain_graph=*/create_graph, create_graph,
      /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) grads[i] = torch::zeros_like(inputs[i]);
  }
  return grads;
}

// `tensors` averaged over `group`, detached. Over one rank, the tensors
// themselves (no copy); otherwise copies, so that the originals (which may
// be part of a graph still needed) are not reduced in place.
absl::StatusOr<std::vector<torch::Tensor>> Averaged(
    const std::vector<torch::Tensor>& tensors, Communicator& group) {
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& t : tensors) {
    out.push_back(group.size() == 1 ? t.detach() : t.detach().clone());
  }
  absl::Status status = AllReduceTensors(out, group, ReduceOp::kAverage);
  if (!status.ok()) return status;
  return out;
}

// Σ a·b over the tensor lists: one BLAS dot per tensor, summed in double
// (a diagnostic: no float64 copies of the gradients, which cost 5-10 % of
// the step at d_model 512; bench/, docs/PERFORMANCE.md).
double Dot(const std::vector<torch::Tensor>& a,
           const std::vector<torch::Tensor>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sum += torch::dot(a[i].detach().reshape(-1), b[i].detach().reshape(-1))
               .item<double>();
  }
  return sum;
}

double Norm(const std::vector<torch::Tensor>& tensors) {
  return std::sqrt(Dot(tensors, tensors));
}

double Cosine(const std::vector<torch::Tensor>& a,
              const std::vector<torch::Tensor>& b) {
  const double norms = Norm(a) * Norm(b);
  return norms > 0 ? Dot(a, b) / norms : 0.0;
}

void SetGradients(const std::vector<torch::Tensor>& parameters,
                  const std::vector<torch::Tensor>& gradients) {
  for (size_t i = 0; i < parameters.size(); ++i) {
    const_cast<torch::Tensor&>(parameters[i]).mutable_grad() =
        gradients[i].detach().clone();
  }
}

}  // namespace

torch::Tensor RewardTrainer::Loss(const PreferenceBatch& pairs,
                                  RewardStepStats* stats) {
  auto [chosen, rejected] = ScorePairs(model_, pairs);
  torch::Tensor loss = BradleyTerryLoss(chosen, rejected);
  stats->loss = loss.item<double>();
  stats->accuracy = PairwiseAccuracy(chosen.detach(), rejected.detach());
  return loss;
}

absl::StatusOr<GradientReduction> RewardTrainer::VanillaGradient(
    const PreferenceBatch& pairs, RewardStepStats* stats) {
  optimizer_->ZeroGrad();
  Loss(pairs, stats).backward();
  return GradientReduction::kAverage;
}

absl::StatusOr<GradientReduction> RewardTrainer::RegularizedGradient(
    const PreferenceBatch& pairs, const MetaBatch& meta,
    RewardStepStats* stats) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  torch::Tensor loss = Loss(pairs, stats);
  torch::Tensor j = DifferenceObjective(ScoreMetaBatch(model_, meta));
  stats->objective = j.item<double>();
  std::vector<torch::Tensor> grad_l = Gradients({loss}, parameters, {}, false);
  std::vector<torch::Tensor> grad_j = Gradients({j}, parameters, {}, false);
  stats->gradient_cosine = Cosine(grad_l, grad_j);
  // ∇(L − λJ) = ∇L − λ∇J, averaged over the learners.
  std::vector<torch::Tensor> combined;
  for (size_t i = 0; i < parameters.size(); ++i) {
    combined.push_back(grad_l[i] - options_.gap_lambda * grad_j[i]);
  }
  absl::StatusOr<std::vector<torch::Tensor>> averaged =
      Averaged(combined, learners_);
  if (!averaged.ok()) return averaged.status();
  SetGradients(parameters, *averaged);
  return GradientReduction::kReduced;
}

absl::StatusOr<GradientReduction> RewardTrainer::MetaGradient(
    const PreferenceBatch& pairs, const MetaBatch& meta, bool exact,
    RewardStepStats* stats) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  // Algorithm 1, steps 2-3: J(θ) and its gradient, kept as a graph for the
  // exact variant's second derivative.
  torch::Tensor j = DifferenceObjective(ScoreMetaBatch(model_, meta));
  stats->objective = j.item<double>();
  std::vector<torch::Tensor> grad_j_local =
      Gradients({j}, parameters, {}, /*create_graph=*/exact);
  // ∇J averaged over the learners: every learner moves to the same θ'.
  absl::StatusOr<std::vector<torch::Tensor>> grad_j =
      Averaged(grad_j_local, learners_);
  if (!grad_j.ok()) return grad_j.status();
  stats->meta_step_ratio = options_.eta * Norm(*grad_j) / Norm(parameters);
  // θ' = θ + η ∇J(θ), written into the parameters' storage through .data()
  // so that the graph of ∇J (which saved θ) is not invalidated; θ is put back
  // bit for bit before that graph is used again.
  std::vector<torch::Tensor> backup;
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      backup.push_back(parameters[i].detach().clone());
      parameters[i].data().add_((*grad_j)[i], options_.eta);
    }
    stats->objective_at_prime =
        DifferenceObjective(ScoreMetaBatch(model_, meta)).item<double>();
  }
  // Step 4: ∇L(θ').
  torch::Tensor loss = Loss(pairs, stats);
  absl::StatusOr<std::vector<torch::Tensor>> grad_l =
      Averaged(Gradients({loss}, parameters, {}, false), learners_);
  if (!grad_l.ok()) return grad_l.status();
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      parameters[i].data().copy_(backup[i]);
    }
  }
  stats->gradient_cosine = Cosine(*grad_l, *grad_j);
  std::vector<torch::Tensor> gradient = *grad_l;
  if (exact) {
    // d/dθ L(θ + η∇J(θ)) = ∇L(θ') + η H_J(θ) ∇L(θ'). Each learner's H_J of
    // its shard times the common ∇L(θ'), averaged: H_J of the whole batch.
    absl::StatusOr<std::vector<torch::Tensor>> hessian_vector = Averaged(
        Gradients(grad_j_local, parameters, *grad_l, false), learners_);
    if (!hessian_vector.ok()) return hessian_vector.status();
    for (size_t i = 0; i < gradient.size(); ++i) {
      gradient[i] = gradient[i] + options_.eta * (*hessian_vector)[i];
    }
  }
  SetGradients(parameters, gradient);
  return GradientReduction::kReduced;
}

absl::StatusOr<GradientReduction> RewardTrainer::LocalGradient(
    const PreferenceBatch& pairs, const MetaBatch* meta,
    RewardStepStats* stats) {
  const bool has_meta = meta != nullptr && meta->prompts() > 0;
  switch (has_meta ? options_.mode : VANILLA) {
    case GAP_REGULARIZED:
      return RegularizedGradient(pairs, *meta, stats);
    case METARM:
      return MetaGradient(pairs, *meta, /*exact=*/false, stats);
    case METARM_EXACT:
      return MetaGradient(pairs, *meta, /*exact=*/true, stats);
    default:
      return VanillaGradient(pairs, stats);
  }
}

absl::Status RewardTrainer::ComputeGradient(const PreferenceBatch& pairs,
                                            const MetaBatch* meta,
                                            RewardStepStats* stats) {
  absl::StatusOr<GradientReduction> how = LocalGradient(pairs, meta, stats);
  if (!how.ok()) return how.status();
  if (*how == GradientReduction::kReduced) return absl::OkStatus();
  return AverageGradients(model_->parameters(), learners_);
}

absl::StatusOr<RewardStepStats> RewardTrainer::Step(
    const PreferenceBatch& pairs, const MetaBatch* meta) {
  RewardStepStats stats;
  absl::StatusOr<GradientReduction> how = LocalGradient(pairs, meta, &stats);
  if (!how.ok()) return how.status();
  // Algorithm 1, step 5: the optimizer step at θ with the gradient.
  absl::Status reduced = optimizer_->ReduceGradients(*how);
  if (!reduced.ok()) return reduced;
  absl::Status stepped = optimizer_->Step();
  if (!stepped.ok()) return stepped;
  const bool logs_j =
      meta != nullptr && meta->prompts() > 0 && options_.mode != VANILLA;
  if (logs_j) {
    torch::NoGradGuard no_grad;
    stats.objective_after =
        DifferenceObjective(ScoreMetaBatch(model_, *meta)).item<double>();
  }
  if (learners_.size() > 1) {
    torch::Tensor summary = torch::tensor(
        {stats.loss, stats.accuracy, stats.objective, stats.objective_at_prime,
         stats.objective_after, stats.gradient_cosine, stats.meta_step_ratio},
        torch::kFloat64);
    absl::Status averaged = learners_.AllReduce(summary, ReduceOp::kAverage);
    if (!averaged.ok()) return averaged;
    stats.loss = summary[0].item<double>();
    stats.accuracy = summary[1].item<double>();
    stats.objective = summary[2].item<double>();
    stats.objective_at_prime = summary[3].item<double>();
    stats.objective_after = summary[4].item<double>();
    stats.gradient_cosine = summary[5].item<double>();
    stats.meta_step_ratio = summary[6].item<double>();
  }
  return stats;
}

}  // namespace metarm
