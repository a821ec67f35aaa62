// What one reward-model step measures, declared once: the struct and the
// list of its fields with their log names, which drives the reduction over
// the learners (reward/reward_trainer.cc), the per-step and per-epoch logs
// and the epoch means (training/reward_training.h).
//
//   for (const RewardStatField& f : kRewardStatFields) line[f.step_key] =
//   stats.*f.member;
#ifndef METARM_REWARD_REWARD_STEP_STATS_H_
#define METARM_REWARD_REWARD_STEP_STATS_H_

#include <array>
#include <cstdint>

namespace metarm {

// Averaged over the learner group. The J fields are 0 without a meta batch
// or in VANILLA mode.
struct RewardStepStats {
  double loss = 0;       // Bradley-Terry loss on the batch (at θ' for METARM*)
  double accuracy = 0;   // pairwise accuracy on the batch (at θ')
  double objective = 0;  // J on the meta batch at θ, before the step
  double objective_at_prime = 0;  // J at θ' (METARM, METARM_EXACT)
  double objective_after = 0;     // J after the optimizer step
  double gradient_cosine = 0;     // cos(∇L, ∇J); ∇L at θ' for METARM*
  double meta_step_ratio = 0;  // η ‖∇J‖ / ‖θ‖ (METARM, METARM_EXACT)
  double learning_rate = 0;    // the step's, from the schedule
  double grad_norm = 0;        // ‖the applied gradient‖, before clipping
};

struct RewardStatField {
  double RewardStepStats::*member;
  const char* step_key;   // its key in a step's log line
  const char* epoch_key;  // its key in an epoch's line (the epoch's mean)
};

inline constexpr std::array<RewardStatField, 9> kRewardStatFields = {{
    {&RewardStepStats::loss, "loss", "train_loss"},
    {&RewardStepStats::accuracy, "accuracy", "train_accuracy"},
    {&RewardStepStats::objective, "meta_objective", "meta_objective"},
    {&RewardStepStats::objective_at_prime, "meta_objective_at_prime",
     "meta_objective_at_prime"},
    {&RewardStepStats::objective_after, "meta_objective_after",
     "meta_objective_after"},
    {&RewardStepStats::gradient_cosine, "gradient_cosine", "gradient_cosine"},
    {&RewardStepStats::meta_step_ratio, "meta_step_ratio", "meta_step_ratio"},
    {&RewardStepStats::learning_rate, "learning_rate", "learning_rate"},
    {&RewardStepStats::grad_norm, "grad_norm", "grad_norm"},
}};

// Field-wise sum and division (for epoch totals and means).
inline RewardStepStats& operator+=(RewardStepStats& sum,
                                   const RewardStepStats& step) {
  for (const RewardStatField& f : kRewardStatFields) {
    sum.*f.member += step.*f.member;
  }
  return sum;
}

inline RewardStepStats DividedBy(RewardStepStats stats, double divisor) {
  for (const RewardStatField& f : kRewardStatFields) stats.*f.member /= divisor;
  return stats;
}

}  // namespace metarm

#endif  // METARM_REWARD_REWARD_STEP_STATS_H_
