// The PPO update on the learners: policy and critic, data parallel.
//
//   PpoLearner learner(policy, critic, job.ppo(), learners);
//   absl::StatusOr<PpoStats> stats = learner.Update(experience, seed);
//
// Every learner holds the whole rollout batch. Each minibatch (a seeded
// permutation of the batch, the same on every learner) is split evenly over
// the learners; each backpropagates the sum of its tokens' losses divided by
// the minibatch's total token count, and the gradients are summed over the
// learners. So the step is the one a single learner takes on the whole
// minibatch, whatever the number of learners (tested to 1e-9 in float64).
#ifndef METARM_PPO_PPO_LEARNER_H_
#define METARM_PPO_PPO_LEARNER_H_

#include <torch/torch.h>

#include <optional>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "model/token_batch.h"
#include "model/transformer.h"
#include "optim/data_parallel_optimizer.h"
#include "ppo/ppo_math.h"
#include "proto/job.pb.h"
#include "rollout/experience.h"

namespace metarm {

struct PpoStats {
  double policy_loss = 0;
  double value_loss = 0;
  double entropy = 0;
  double clip_fraction = 0;
  double approx_kl = 0;
  double kl_to_reference = 0;  // mean Σ_t (log π_old − log π_ref) per sequence
  double mean_score = 0;       // mean reward-model score of the batch
  int64_t steps = 0;           // minibatch steps in the update
  int64_t skipped_steps = 0;  // of which skipped: non-finite loss or gradient
  // The last step's learning rates (from the schedules) and the gradient
  // norms (global, before clipping), means over the steps taken.
  double policy_learning_rate = 0;
  double value_learning_rate = 0;
  double policy_grad_norm = 0;
  double value_grad_norm = 0;
};

// The learning-rate schedules of the policy and the critic, over the run's
// minibatch steps, and the gradient clipping of both.
struct PpoSchedules {
  LrSchedule policy;
  LrSchedule critic;
  double max_grad_norm = 0;  // 0: no clipping
};

class PpoLearner {
 public:
  // `shard_optimizer_state`: ZeRO stage 1 for both optimizers
  // (topology.shard_optimizer_state). Without `schedules`: the spec's
  // learning rates, constant, no clipping.
  PpoLearner(LanguageModel policy, ScalarModel critic, const PpoSpec& spec,
             Communicator& learners, bool shard_optimizer_state = false,
             std::optional<PpoSchedules> schedules = std::nullopt);
  PpoLearner(const PpoLearner&) = delete;
  PpoLearner& operator=(const PpoLearner&) = delete;

  // ppo.epochs passes over `experience` in minibatches of
  // ppo.minibatch_size. `iteration` (from 0 over the run) places its steps
  // on the schedules. Collective over the learners.
  absl::StatusOr<PpoStats> Update(const Experience& experience, uint64_t seed,
                                  int64_t iteration = 0);

  LanguageModel& policy() { return policy_; }
  ScalarModel& critic() { return critic_; }
  double kl_coef() const { return kl_.value(); }
  // For checkpoints: the optimizers and the KL coefficient are the learner's
  // whole state besides the models.
  DataParallelOptimizer& policy_optimizer() { return *policy_optimizer_; }
  DataParallelOptimizer& critic_optimizer() { return *critic_optimizer_; }
  void RestoreKlCoef(double value) { kl_.Restore(value); }

 private:
  // Gradient step on one minibatch share; returns its summed statistics.
  absl::StatusOr<PpoStats> Minibatch(const Experience& batch,
                                     const torch::Tensor& advantages,
                                     const torch::Tensor& returns,
                                     const torch::Tensor& old_values,
                                     double total_tokens, int64_t step);

  LanguageModel policy_;
  ScalarModel critic_;
  PpoSpec spec_;
  Communicator& learners_;
  std::unique_ptr<DataParallelOptimizer> policy_optimizer_;
  std::unique_ptr<DataParallelOptimizer> critic_optimizer_;
  PpoSchedules schedules_;
  KlController kl_;
};

}  // namespace metarm

#endif  // METARM_PPO_PPO_LEARNER_H_
