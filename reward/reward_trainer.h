// Reward-model training steps, VANILLA or METARM, data-parallel over the
// learner group.
//
//   RewardTrainer trainer(model, options, learners);
//   absl::StatusOr<RewardStepStats> stats = trainer.Step(pairs, &meta);
//
// Each learner passes its own shard of the step's global batch (equal shares,
// see ShardRange); gradients are averaged over the learners before use, so
// every learner ends every step with identical parameters, and L learners with
// a global batch B compute the step of one learner with batch B.
#ifndef METARM_REWARD_REWARD_TRAINER_H_
#define METARM_REWARD_REWARD_TRAINER_H_

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "model/token_batch.h"
#include "model/transformer.h"
#include "optim/data_parallel_optimizer.h"
#include "reward/reward_step_stats.h"

namespace metarm {

// n preference pairs: row i of `chosen` is preferred to row i of `rejected`
// (each holds prompt + response).
struct PreferenceBatch {
  TokenBatch chosen;
  TokenBatch rejected;
  int64_t size() const { return chosen.size(); }
};

// m prompts with k policy responses each (prompt + response rows), prompt
// major: prompt p's responses are rows p*k .. p*k + k - 1. No labels.
struct MetaBatch {
  TokenBatch responses;
  int64_t responses_per_prompt = 0;
  int64_t prompts() const {
    return responses_per_prompt == 0 ? 0
                                     : responses.size() / responses_per_prompt;
  }
};

// The reward model's objective (the job's reward_training.mode maps onto it
// one to one: training/job_options.h).
enum class RewardObjective {
  kVanilla,         // Bradley-Terry on the pairs
  kMetaRm,          // MetaRM, first-order meta step (Algorithm 1)
  kMetaRmExact,     // MetaRM with the exact meta-gradient (Hessian term)
  kGapRegularized,  // ablation: Bradley-Terry minus λ·J, no meta step
};

// "VANILLA", "METARM", "METARM_EXACT", "GAP_REGULARIZED" (the job's names).
const char* RewardObjectiveName(RewardObjective objective);

struct RewardTrainerOptions {
  RewardObjective mode = RewardObjective::kMetaRm;
  double eta = 0.1;             // meta-process step size η
  double gap_lambda = 0.1;      // λ of kGapRegularized
  double learning_rate = 1e-3;  // AdamW α
  double weight_decay = 0.0;
  // ZeRO stage 1 over the learners (topology.shard_optimizer_state).
  bool shard_optimizer_state = false;
  // Clip the applied gradient's global L2 norm to this; 0: no clipping.
  double max_grad_norm = 0;
  // Gradient accumulation: at most this many pairs, and this many meta-set
  // prompts (each with its k responses), in one forward pass on a learner;
  // 0: the learner's whole share at once. The step is the same up to
  // rounding (means of the micro-batches weighted by their sizes).
  int64_t micro_batch_size = 0;
  int64_t meta_micro_batch_size = 0;
};

class RewardTrainer {
 public:
  // `learners` must outlive the trainer.
  RewardTrainer(ScalarModel model, const RewardTrainerOptions& options,
                Communicator& learners);
  RewardTrainer(const RewardTrainer&) = delete;
  RewardTrainer& operator=(const RewardTrainer&) = delete;

  // One optimizer step on this learner's shard. `meta` may be null (then
  // every mode takes a vanilla step). Collective over the learner group.
  absl::StatusOr<RewardStepStats> Step(const PreferenceBatch& pairs,
                                       const MetaBatch* meta);

  // The gradient Step applies, left in the parameters' .grad() (averaged
  // over the learners), without the optimizer step; for tests and
  // diagnostics. Fills the stats that do not need the step.
  absl::Status ComputeGradient(const PreferenceBatch& pairs,
                               const MetaBatch* meta, RewardStepStats* stats);

  // The learning-rate schedule of the steps from here on, counted from
  // `first_step` (0 at the start of a round's training; later when resumed
  // inside it). Until called: learning_rate, constant.
  void StartSchedule(const LrSchedule& schedule, int64_t first_step = 0) {
    schedule_ = schedule;
    schedule_step_ = first_step;
  }

  ScalarModel& model() { return model_; }
  DataParallelOptimizer& optimizer() { return *optimizer_; }

 private:
  // The gradient of each mode, into .grad(), and how the learners' .grad()
  // are still to be reduced. VANILLA leaves each learner's own gradient
  // (reduced by the optimizer: an all-reduce, or a reduce-scatter when
  // sharded); the other modes all-reduce their gradients themselves, since
  // the meta step θ' = θ + η∇J needs the whole averaged ∇J and the
  // diagnostics the whole averaged ∇L.
  absl::StatusOr<GradientReduction> LocalGradient(const PreferenceBatch& pairs,
                                                  const MetaBatch* meta,
                                                  RewardStepStats* stats);
  absl::StatusOr<GradientReduction> VanillaGradient(
      const PreferenceBatch& pairs, RewardStepStats* stats);
  absl::StatusOr<GradientReduction> RegularizedGradient(
      const PreferenceBatch& pairs, const MetaBatch& meta,
      RewardStepStats* stats);
  absl::StatusOr<GradientReduction> MetaGradient(const PreferenceBatch& pairs,
                                                 const MetaBatch& meta,
                                                 bool exact,
                                                 RewardStepStats* stats);
  // Calls use(L_u, n_u / n) with the Bradley-Terry loss of each
  // micro-batch of options_.micro_batch_size pairs (with its graph) and its
  // share of the pairs; sets stats->loss and ->accuracy (their weighted
  // sums: the batch's).
  using LossUse = std::function<void(const torch::Tensor&, double)>;
  void ForEachLossMicroBatch(const PreferenceBatch& pairs,
                             RewardStepStats* stats, const LossUse& use);
  // ∇L on this learner's pairs, accumulated over micro-batches of
  // options_.micro_batch_size pairs (not averaged over the learners); sets
  // stats->loss and ->accuracy.
  std::vector<torch::Tensor> LossGradient(const PreferenceBatch& pairs,
                                          RewardStepStats* stats);
  // The same accumulated into the parameters' .grad() by backward().
  void AccumulateLossGradient(const PreferenceBatch& pairs,
                              RewardStepStats* stats);
  // Calls use(J_u, m_u / m) with J of each micro-batch of
  // options_.meta_micro_batch_size prompts (with its graph unless gradients
  // are off) and its share of the prompts; returns J of the batch.
  double ForEachObjectiveMicroBatch(const MetaBatch& meta, const LossUse& use);
  // ∇J on this learner's meta batch, accumulated over micro-batches of
  // options_.meta_micro_batch_size prompts; J into *objective.
  std::vector<torch::Tensor> ObjectiveGradient(const MetaBatch& meta,
                                               double* objective);
  // H_J(θ) v by double backward, one micro-batch's graph at a time.
  std::vector<torch::Tensor> ObjectiveHessianVector(
      const MetaBatch& meta, const std::vector<torch::Tensor>& v);
  // J without gradients (micro-batched like the gradient).
  double Objective(const MetaBatch& meta);

  ScalarModel model_;
  RewardTrainerOptions options_;
  Communicator& learners_;
  std::unique_ptr<DataParallelOptimizer> optimizer_;
  LrSchedule schedule_;
  int64_t schedule_step_ = 0;
};

// Scores of both sides of every pair in one forward pass: {chosen, rejected}.
std::pair<torch::Tensor, torch::Tensor> ScorePairs(
    ScalarModel& model, const PreferenceBatch& pairs);

// Scores of a meta batch as [m, k].
torch::Tensor ScoreMetaBatch(ScalarModel& model, const MetaBatch& meta);

// This learner's rows of a global batch of `global_size` rows split evenly
// over `group_size` learners: {begin, count}. global_size must be a multiple
// of group_size (the job validation checks the batch sizes).
std::pair<int64_t, int64_t> ShardRange(int64_t global_size, int rank,
                                       int group_size);

}  // namespace metarm

#endif  // METARM_REWARD_REWARD_TRAINER_H_
