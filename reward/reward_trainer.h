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

#include <memory>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "model/token_batch.h"
#include "model/transformer.h"
#include "proto/job.pb.h"

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

struct RewardTrainerOptions {
  RewardMode mode = METARM;
  double eta = 0.1;             // meta-process step size η
  double learning_rate = 1e-3;  // AdamW α
  double weight_decay = 0.0;

  static RewardTrainerOptions FromSpec(const RewardTraining& spec);
};

// Averaged over the learner group.
struct RewardStepStats {
  double loss = 0;       // Bradley-Terry loss on the batch (at θ' for METARM)
  double accuracy = 0;   // pairwise accuracy on the batch (at θ')
  double objective = 0;  // J on the meta batch at θ (METARM only, else 0)
};

class RewardTrainer {
 public:
  // `learners` must outlive the trainer.
  RewardTrainer(ScalarModel model, const RewardTrainerOptions& options,
                Communicator& learners);
  RewardTrainer(const RewardTrainer&) = delete;
  RewardTrainer& operator=(const RewardTrainer&) = delete;

  // One optimizer step on this learner's shard. `meta` may be null (then
  // METARM takes a vanilla step). Collective over the learner group.
  absl::StatusOr<RewardStepStats> Step(const PreferenceBatch& pairs,
                                       const MetaBatch* meta);

  ScalarModel& model() { return model_; }
  torch::optim::AdamW& optimizer() { return optimizer_; }

 private:
  // MetaRM Algorithm 1, steps 2-3: returns the backup of θ and moves the
  // parameters to θ' = θ + η ∇J(θ). Sets *objective to J(θ).
  absl::StatusOr<std::vector<torch::Tensor>> MetaProcess(const MetaBatch& meta,
                                                         double* objective);

  ScalarModel model_;
  RewardTrainerOptions options_;
  Communicator& learners_;
  torch::optim::AdamW optimizer_;
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
