#include "reward/reward_trainer.h"

#include <cmath>

#include "comm/gradient_sync.h"
#include "reward/losses.h"
#include "util/status_macros.h"

namespace metarm {

const char* RewardObjectiveName(RewardObjective objective) {
  switch (objective) {
    case RewardObjective::kVanilla:
      return "VANILLA";
    case RewardObjective::kMetaRm:
      return "METARM";
    case RewardObjective::kMetaRmExact:
      return "METARM_EXACT";
    case RewardObjective::kGapRegularized:
      return "GAP_REGULARIZED";
  }
  return "?";
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
                         learners, options.shard_optimizer_state)),
      schedule_{options.learning_rate} {}

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
  METARM_RETURN_IF_ERROR(AllReduceTensors(out, group, ReduceOp::kAverage));
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

void SetGradients(std::vector<torch::Tensor>& parameters,
                  const std::vector<torch::Tensor>& gradients) {
  for (size_t i = 0; i < parameters.size(); ++i) {
    parameters[i].mutable_grad() = gradients[i].detach().clone();
  }
}

}  // namespace

namespace {

// Micro-batch `range` of the pairs.
PreferenceBatch PairRows(const PreferenceBatch& pairs, RowRange range) {
  return {pairs.chosen.Rows(range.begin, range.count),
          pairs.rejected.Rows(range.begin, range.count)};
}

// Micro-batch `range` of the meta batch's prompts, with their k responses.
MetaBatch PromptRows(const MetaBatch& meta, RowRange range) {
  const int64_t k = meta.responses_per_prompt;
  return {meta.responses.Rows(range.begin * k, range.count * k), k};
}

// sum += weight · g, element-wise over the lists (sum empty: starts it,
// without a copy when g is the whole batch's: weight 1, the default of no
// micro-batches).
void AddScaled(std::vector<torch::Tensor>& sum,
               const std::vector<torch::Tensor>& g, double weight) {
  if (sum.empty()) {
    for (const torch::Tensor& t : g) {
      sum.push_back(weight == 1.0 ? t.detach() : t.detach() * weight);
    }
    return;
  }
  for (size_t i = 0; i < g.size(); ++i) sum[i].add_(g[i].detach(), weight);
}

}  // namespace

// L and J are means (over pairs, over prompts), so the batch's gradient is
// the micro-batches' gradients weighted by their shares of the batch:
// ∇L = Σ_u (n_u / n) ∇L_u, ∇J = Σ_u (m_u / m) ∇J_u.
void RewardTrainer::ForEachLossMicroBatch(const PreferenceBatch& pairs,
                                          RewardStepStats* stats,
                                          const LossUse& use) {
  stats->loss = stats->accuracy = 0;
  for (RowRange range : MicroBatches(pairs.size(), options_.micro_batch_size)) {
    const double weight = double(range.count) / double(pairs.size());
    auto [chosen, rejected] = ScorePairs(model_, PairRows(pairs, range));
    torch::Tensor loss = BradleyTerryLoss(chosen, rejected);
    stats->loss += weight * loss.item<double>();
    stats->accuracy +=
        weight * PairwiseAccuracy(chosen.detach(), rejected.detach());
    use(loss, weight);
  }
}

std::vector<torch::Tensor> RewardTrainer::LossGradient(
    const PreferenceBatch& pairs, RewardStepStats* stats) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  std::vector<torch::Tensor> gradient;
  ForEachLossMicroBatch(
      pairs, stats, [&](const torch::Tensor& loss, double weight) {
        AddScaled(gradient, Gradients({loss}, parameters, {}, false), weight);
      });
  return gradient;
}

void RewardTrainer::AccumulateLossGradient(const PreferenceBatch& pairs,
                                           RewardStepStats* stats) {
  ForEachLossMicroBatch(pairs, stats,
                        [](const torch::Tensor& loss, double weight) {
                          (loss * weight).backward();
                        });
}

double RewardTrainer::ForEachObjectiveMicroBatch(const MetaBatch& meta,
                                                 const LossUse& use) {
  double objective = 0;
  for (RowRange range :
       MicroBatches(meta.prompts(), options_.meta_micro_batch_size)) {
    const double weight = double(range.count) / double(meta.prompts());
    torch::Tensor j =
        DifferenceObjective(ScoreMetaBatch(model_, PromptRows(meta, range)));
    objective += weight * j.item<double>();
    use(j, weight);
  }
  return objective;
}

std::vector<torch::Tensor> RewardTrainer::ObjectiveGradient(
    const MetaBatch& meta, double* objective) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  std::vector<torch::Tensor> gradient;
  *objective = ForEachObjectiveMicroBatch(
      meta, [&](const torch::Tensor& j, double weight) {
        AddScaled(gradient, Gradients({j}, parameters, {}, false), weight);
      });
  return gradient;
}

std::vector<torch::Tensor> RewardTrainer::ObjectiveHessianVector(
    const MetaBatch& meta, const std::vector<torch::Tensor>& v) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  std::vector<torch::Tensor> product;
  ForEachObjectiveMicroBatch(meta, [&](const torch::Tensor& j, double weight) {
    // H_J v = ∇(∇J · v): the first derivative kept as a graph.
    std::vector<torch::Tensor> grad_j =
        Gradients({j}, parameters, {}, /*create_graph=*/true);
    AddScaled(product, Gradients(grad_j, parameters, v, false), weight);
  });
  return product;
}

double RewardTrainer::Objective(const MetaBatch& meta) {
  torch::NoGradGuard no_grad;
  return ForEachObjectiveMicroBatch(meta, [](const torch::Tensor&, double) {});
}

absl::StatusOr<GradientReduction> RewardTrainer::VanillaGradient(
    const PreferenceBatch& pairs, RewardStepStats* stats) {
  optimizer_->ZeroGrad();
  AccumulateLossGradient(pairs, stats);
  return GradientReduction::kAverage;
}

absl::StatusOr<GradientReduction> RewardTrainer::RegularizedGradient(
    const PreferenceBatch& pairs, const MetaBatch& meta,
    RewardStepStats* stats) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  // ∇L and ∇J averaged over the learners in one call (the cosine is the
  // whole batch's, as METARM's is).
  std::vector<torch::Tensor> both = LossGradient(pairs, stats);
  const size_t count = both.size();
  for (torch::Tensor& g : ObjectiveGradient(meta, &stats->objective)) {
    both.push_back(g);
  }
  METARM_ASSIGN_OR_RETURN(both, Averaged(both, learners_));
  const std::vector<torch::Tensor> grad_l(both.begin(), both.begin() + count);
  const std::vector<torch::Tensor> grad_j(both.begin() + count, both.end());
  stats->gradient_cosine = Cosine(grad_l, grad_j);
  // ∇(L − λJ) = ∇L − λ∇J.
  std::vector<torch::Tensor> averaged;
  for (size_t i = 0; i < count; ++i) {
    averaged.push_back(grad_l[i] - options_.gap_lambda * grad_j[i]);
  }
  SetGradients(parameters, averaged);
  return GradientReduction::kReduced;
}

absl::StatusOr<GradientReduction> RewardTrainer::MetaGradient(
    const PreferenceBatch& pairs, const MetaBatch& meta, bool exact,
    RewardStepStats* stats) {
  std::vector<torch::Tensor> parameters = model_->parameters();
  // Algorithm 1, steps 2-3: J(θ) and its gradient, averaged over the
  // learners: every learner moves to the same θ'.
  METARM_ASSIGN_OR_RETURN(
      std::vector<torch::Tensor> grad_j,
      Averaged(ObjectiveGradient(meta, &stats->objective), learners_));
  stats->meta_step_ratio = options_.eta * Norm(grad_j) / Norm(parameters);
  // θ' = θ + η ∇J(θ) in the parameters' storage; θ is put back bit for bit
  // afterwards.
  std::vector<torch::Tensor> backup;
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      backup.push_back(parameters[i].detach().clone());
      parameters[i].data().add_(grad_j[i], options_.eta);
    }
  }
  stats->objective_at_prime = Objective(meta);
  // Step 4: ∇L(θ').
  METARM_ASSIGN_OR_RETURN(std::vector<torch::Tensor> grad_l,
                          Averaged(LossGradient(pairs, stats), learners_));
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      parameters[i].data().copy_(backup[i]);
    }
  }
  stats->gradient_cosine = Cosine(grad_l, grad_j);
  std::vector<torch::Tensor> gradient = grad_l;
  if (exact) {
    // d/dθ L(θ + η∇J(θ)) = ∇L(θ') + η H_J(θ) ∇L(θ'). Each learner's H_J of
    // its shard times the common ∇L(θ'), averaged: H_J of the whole batch.
    // ∇J is taken again at θ with its graph, one micro-batch at a time, so
    // that no more than one micro-batch's double-backward graph is alive.
    METARM_ASSIGN_OR_RETURN(
        std::vector<torch::Tensor> hessian_vector,
        Averaged(ObjectiveHessianVector(meta, grad_l), learners_));
    for (size_t i = 0; i < gradient.size(); ++i) {
      gradient[i] = gradient[i] + options_.eta * hessian_vector[i];
    }
  }
  SetGradients(parameters, gradient);
  return GradientReduction::kReduced;
}

absl::StatusOr<GradientReduction> RewardTrainer::LocalGradient(
    const PreferenceBatch& pairs, const MetaBatch* meta,
    RewardStepStats* stats) {
  const bool has_meta = meta != nullptr && meta->prompts() > 0;
  switch (has_meta ? options_.mode : RewardObjective::kVanilla) {
    case RewardObjective::kGapRegularized:
      return RegularizedGradient(pairs, *meta, stats);
    case RewardObjective::kMetaRm:
      return MetaGradient(pairs, *meta, /*exact=*/false, stats);
    case RewardObjective::kMetaRmExact:
      return MetaGradient(pairs, *meta, /*exact=*/true, stats);
    default:
      return VanillaGradient(pairs, stats);
  }
}

absl::Status RewardTrainer::ComputeGradient(const PreferenceBatch& pairs,
                                            const MetaBatch* meta,
                                            RewardStepStats* stats) {
  METARM_ASSIGN_OR_RETURN(GradientReduction how,
                          LocalGradient(pairs, meta, stats));
  if (how == GradientReduction::kReduced) return absl::OkStatus();
  std::vector<torch::Tensor> parameters = model_->parameters();
  return AverageGradients(parameters, learners_);
}

absl::StatusOr<RewardStepStats> RewardTrainer::Step(
    const PreferenceBatch& pairs, const MetaBatch* meta) {
  RewardStepStats stats;
  METARM_ASSIGN_OR_RETURN(GradientReduction how,
                          LocalGradient(pairs, meta, &stats));
  // Algorithm 1, step 5: the optimizer step at θ with the gradient (its rate
  // from the schedule, its norm clipped when the job says so).
  METARM_RETURN_IF_ERROR(optimizer_->ReduceGradients(how));
  METARM_ASSIGN_OR_RETURN(
      StepReport step, ScheduledStep(*optimizer_, schedule_, schedule_step_++,
                                     options_.max_grad_norm));
  stats.learning_rate = step.learning_rate;
  stats.grad_norm = step.grad_norm;
  const bool logs_j = meta != nullptr && meta->prompts() > 0 &&
                      options_.mode != RewardObjective::kVanilla;
  if (logs_j) stats.objective_after = Objective(*meta);
  if (learners_.size() > 1) {
    // The statistics averaged over the learners, in kRewardStatFields order.
    std::vector<double> values;
    for (const RewardStatField& f : kRewardStatFields) {
      values.push_back(stats.*f.member);
    }
    torch::Tensor summary = torch::tensor(values, torch::kFloat64);
    METARM_RETURN_IF_ERROR(learners_.AllReduce(summary, ReduceOp::kAverage));
    for (size_t i = 0; i < kRewardStatFields.size(); ++i) {
      stats.*kRewardStatFields[i].member = summary[i].item<double>();
    }
  }
  return stats;
}

}  // namespace metarm
