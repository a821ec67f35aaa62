// One epoch of reward-model training over preference pairs with an optional
// meta set, sharded over the learners (shared by the REWARD_MODEL_ONLY job and
// the RLHF rounds).
//
//   RewardData data{...};
//   absl::StatusOr<EpochTotals> totals = TrainRewardEpoch(
//       job.reward_training(), job.seed(), data, tok, limits, trainer,
//       learners, epoch);
#ifndef METARM_TRAINER_REWARD_TRAINING_H_
#define METARM_TRAINER_REWARD_TRAINING_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "metrics/run_log.h"
#include "nlohmann/json.hpp"
#include "proto/job.pb.h"
#include "reward/reward_data.h"
#include "reward/reward_trainer.h"
#include "tasks/preference_data.h"
#include "tasks/tokenizer.h"

namespace metarm {

struct RewardData {
  std::vector<PreferencePair> train;
  std::vector<PreferencePair> eval;
  std::vector<PreferencePair> shifted;
  std::vector<ResponseSet> meta;
  std::vector<ResponseSet> eval_responses;
};

// A permutation of 0..n-1 that depends only on (seed, stream): the same on
// every rank.
std::vector<int64_t> Permutation(int64_t n, uint64_t seed, uint64_t stream);

// This learner's share of the global indices `all`.
std::vector<int64_t> MyShare(const std::vector<int64_t>& all,
                             Communicator& learners);

// Sums over the epoch's steps of RewardStepStats.
struct EpochTotals {
  double loss = 0, accuracy = 0, objective = 0, objective_at_prime = 0,
         objective_after = 0, gradient_cosine = 0, meta_step_ratio = 0;
  int64_t steps = 0;
};

// Steps over the training pairs in a seeded order, n = spec.batch_size a
// step; the meta set (if any) cycles in batches of spec.meta_batch_size.
// `on_step`, when given, sees every step's statistics (for the per-step
// logs); an error from it stops the epoch.
using RewardStepObserver =
    std::function<absl::Status(int64_t step, const RewardStepStats& stats)>;
absl::StatusOr<EpochTotals> TrainRewardEpoch(
    const RewardTraining& spec, uint64_t seed, const RewardData& data,
    const Tokenizer& tokenizer, const SequenceLimits& limits,
    RewardTrainer& trainer, Communicator& learners, int epoch,
    const RewardStepObserver& on_step = nullptr);

// An observer that appends one line per step to `file` of `log`: the step's
// Bradley-Terry loss and accuracy and the MetaRM diagnostics
// (reward/reward_trainer.h), numbered by a running "step", with `fields`
// (the round, the epoch) added.
RewardStepObserver LogRewardSteps(RunLog& log, const std::string& file,
                                  const nlohmann::json& fields);

}  // namespace metarm

#endif  // METARM_TRAINER_REWARD_TRAINING_H_
