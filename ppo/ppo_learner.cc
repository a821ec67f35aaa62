#include "ppo/ppo_learner.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "comm/gradient_sync.h"
#include "util/random_streams.h"
#include "util/status_macros.h"

namespace metarm {

PpoLearner::PpoLearner(LanguageModel policy, ScalarModel critic,
                       const PpoSpec& spec, Communicator& learners,
                       bool shard_optimizer_state,
                       std::optional<PpoSchedules> schedules)
    : policy_(std::move(policy)),
      critic_(std::move(critic)),
      spec_(spec),
      learners_(learners),
      policy_optimizer_(
          MakeModelAdamW(policy_->parameters(),
                         torch::optim::AdamWOptions(spec.policy_learning_rate())
                             .weight_decay(0.0),
                         learners, shard_optimizer_state)),
      critic_optimizer_(
          MakeModelAdamW(critic_->parameters(),
                         torch::optim::AdamWOptions(spec.value_learning_rate())
                             .weight_decay(0.0),
                         learners, shard_optimizer_state)),
      schedules_(schedules.value_or(
          PpoSchedules{LrSchedule{spec.policy_learning_rate()},
                       LrSchedule{spec.value_learning_rate()}, 0})),
      kl_(spec.kl_coef(), spec.kl_target()) {}

absl::StatusOr<PpoStats> PpoLearner::Minibatch(const Experience& batch,
                                               const torch::Tensor& advantages,
                                               const torch::Tensor& returns,
                                               const torch::Tensor& old_values,
                                               double total_tokens,
                                               int64_t step) {
  policy_optimizer_->ZeroGrad();
  critic_optimizer_->ZeroGrad();
  PpoStats stats;
  // Gradient accumulation over micro-batches of the share: each
  // micro-batch's losses are means over its tokens, rescaled to its share of
  // the whole minibatch's token sum, so the gradients summed over the
  // micro-batches and the learners are those of the mean over the minibatch.
  for (RowRange range : MicroBatches(batch.size(), spec_.micro_batch_size())) {
    const Experience micro = batch.Rows(range.begin, range.count);
    auto rows = [range](const torch::Tensor& t) {
      return t.narrow(0, range.begin, range.count);
    };
    auto [logprobs, entropy] =
        ResponseLogprobs(policy_, micro.sequences, micro.prompt_columns);
    torch::Tensor values =
        ResponseValues(critic_, micro.sequences, micro.prompt_columns);
    PpoLosses losses = ComputePpoLosses(
        logprobs, micro.old_logprobs, rows(advantages), values,
        rows(old_values), rows(returns), entropy, micro.response_mask,
        spec_.clip_range(), spec_.value_clip_range());
    const double tokens = micro.response_mask.sum().item<double>();
    const double weight = tokens / total_tokens;
    torch::Tensor loss =
        (losses.policy - spec_.entropy_coef() * losses.entropy + losses.value) *
        weight;
    if (!std::isfinite(loss.item<double>())) {
      stats.skipped_steps = 1;
    } else if (stats.skipped_steps == 0) {
      loss.backward();
    }
    stats.policy_loss += losses.policy.item<double>() * weight;
    stats.value_loss += losses.value.item<double>() * weight;
    stats.entropy += losses.entropy.item<double>() * weight;
    stats.clip_fraction += losses.clip_fraction * weight;
    stats.approx_kl += losses.approx_kl * weight;
  }
  // Every learner joins the all-reduce; a skipped share contributes zeros.
  torch::Tensor skipped =
      torch::tensor({double(stats.skipped_steps)}, torch::kFloat64);
  METARM_RETURN_IF_ERROR(learners_.AllReduce(skipped, ReduceOp::kSum));
  bool finite = skipped.item<double>() == 0;
  // Both optimizers take part in every collective, whatever the verdict so
  // far; the verdict is the same on every learner.
  for (DataParallelOptimizer* optimizer :
       {policy_optimizer_.get(), critic_optimizer_.get()}) {
    METARM_RETURN_IF_ERROR(optimizer->ReduceGradients(GradientReduction::kSum));
    METARM_ASSIGN_OR_RETURN(bool reduced_finite,
                            optimizer->ReducedGradientsFinite());
    finite = finite && reduced_finite;
  }
  if (finite) {
    METARM_ASSIGN_OR_RETURN(StepReport policy_step,
                            ScheduledStep(*policy_optimizer_, schedules_.policy,
                                          step, schedules_.max_grad_norm));
    METARM_ASSIGN_OR_RETURN(StepReport critic_step,
                            ScheduledStep(*critic_optimizer_, schedules_.critic,
                                          step, schedules_.max_grad_norm));
    stats.policy_learning_rate = policy_step.learning_rate;
    stats.value_learning_rate = critic_step.learning_rate;
    stats.policy_grad_norm = policy_step.grad_norm;
    stats.value_grad_norm = critic_step.grad_norm;
  }
  stats.skipped_steps = finite ? 0 : 1;
  return stats;
}

absl::StatusOr<PpoStats> PpoLearner::Update(const Experience& shared,
                                            uint64_t seed, int64_t iteration) {
  const Experience experience = shared.To(ModuleDevice(*policy_));
  const int64_t batch = experience.size();
  torch::Tensor advantages, returns, old_values;
  PpoStats totals;
  {
    torch::NoGradGuard no_grad;
    ScopedEvalMode scoring(*critic_);  // values without dropout noise
    old_values = ResponseValues(critic_, experience.sequences,
                                experience.prompt_columns);
    torch::Tensor rewards = TokenRewards(
        experience.scores, experience.old_logprobs, experience.ref_logprobs,
        experience.response_mask, kl_.value(), spec_.reward_clip());
    std::tie(advantages, returns) =
        Gae(rewards, old_values, experience.response_mask, spec_.gamma(),
            spec_.lambda());
    advantages = Whiten(advantages, experience.response_mask);
    totals.kl_to_reference =
        ((experience.old_logprobs - experience.ref_logprobs) *
         experience.response_mask)
            .sum(1)
            .mean()
            .item<double>();
    totals.mean_score = experience.scores.mean().item<double>();
  }
  const int64_t minibatch = spec_.minibatch_size();
  const int64_t share = minibatch / learners_.size();
  // The schedules count every minibatch step of the run, taken or skipped.
  const int64_t first_step = iteration * spec_.epochs() * (batch / minibatch);
  int64_t steps = 0;
  for (uint32_t epoch = 0; epoch < spec_.epochs(); ++epoch) {
    at::Generator generator =
        at::detail::createCPUGenerator(SubstreamSeed(seed, epoch));
    torch::Tensor order = torch::randperm(batch, generator, torch::kInt64);
    for (int64_t begin = 0; begin + minibatch <= batch; begin += minibatch) {
      torch::Tensor all_rows =
          order.narrow(0, begin, minibatch).to(experience.scores.device());
      torch::Tensor rows = all_rows.narrow(0, learners_.rank() * share, share);
      const double total_tokens =
          experience.response_mask.index_select(0, all_rows)
              .sum()
              .item<double>();
      METARM_ASSIGN_OR_RETURN(
          PpoStats step,
          Minibatch(experience.Select(rows), advantages.index_select(0, rows),
                    returns.index_select(0, rows),
                    old_values.index_select(0, rows),
                    std::max(1.0, total_tokens), first_step + steps));
      totals.policy_loss += step.policy_loss;
      totals.value_loss += step.value_loss;
      totals.entropy += step.entropy;
      totals.clip_fraction += step.clip_fraction;
      totals.approx_kl += step.approx_kl;
      totals.skipped_steps += step.skipped_steps;
      if (step.skipped_steps == 0) {
        totals.policy_learning_rate = step.policy_learning_rate;
        totals.value_learning_rate = step.value_learning_rate;
        totals.policy_grad_norm += step.policy_grad_norm;
        totals.value_grad_norm += step.value_grad_norm;
      }
      ++steps;
      ++totals.steps;
    }
  }
  // Sums over the learners of the weighted shares: the minibatch means.
  torch::Tensor summary =
      torch::tensor({totals.policy_loss, totals.value_loss, totals.entropy,
                     totals.clip_fraction, totals.approx_kl},
                    torch::kFloat64);
  if (learners_.size() > 1) {
    METARM_RETURN_IF_ERROR(learners_.AllReduce(summary, ReduceOp::kSum));
  }
  const double n = std::max<int64_t>(1, steps);
  totals.policy_loss = summary[0].item<double>() / n;
  totals.value_loss = summary[1].item<double>() / n;
  totals.entropy = summary[2].item<double>() / n;
  totals.clip_fraction = summary[3].item<double>() / n;
  totals.approx_kl = summary[4].item<double>() / n;
  // The norms are global (the same on every learner): means over the steps
  // taken.
  const double taken = std::max<int64_t>(1, steps - totals.skipped_steps);
  totals.policy_grad_norm /= taken;
  totals.value_grad_norm /= taken;
  kl_.Update(totals.kl_to_reference, batch);
  return totals;
}

}  // namespace metarm
