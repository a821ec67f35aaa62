// One epoch of reward-model training over preference pairs with an optional
// meta set, sharded over the learners, and its logs (shared by the
// REWARD_MODEL_ONLY job and the RLHF rounds).
//
//   RewardData data{...};
//   absl::StatusOr<EpochTotals> totals = TrainRewardEpoch(
//       job.reward_training(), order_seed, data, tok, limits, trainer,
//       learners, epoch, LogRewardSteps(log, {{"epoch", epoch + 1}}));
//   AddRewardEpochMeans(totals->Means(), line);
#ifndef METARM_TRAINING_REWARD_TRAINING_H_
#define METARM_TRAINING_REWARD_TRAINING_H_

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "metrics/run_log.h"
#include "nlohmann/json.hpp"
#include "proto/job.pb.h"
#include "reward/reward_data.h"
#include "reward/reward_step_stats.h"
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

// Both job kinds' reward-model logs: one line per epoch (the means of its
// steps) and one per step.
inline constexpr char kRewardEpochLog[] = "reward_model.jsonl";
inline constexpr char kRewardStepLog[] = "reward_steps.jsonl";

// A permutation of 0..n-1 that depends only on (seed, stream): the same on
// every rank (util/random_streams.h's SubstreamSeed).
std::vector<int64_t> Permutation(int64_t n, uint64_t seed, uint64_t stream);

// `n` records split into held-out and training indices: a permutation of
// `seed`, its first floor(n * fraction) (at least one) held out.
struct IndexSplit {
  std::vector<int64_t> train, held_out;
};
IndexSplit SplitOffHeldOut(int64_t n, double fraction, uint64_t seed);

// This learner's share of the global indices `all`.
std::vector<int64_t> MyShare(const std::vector<int64_t>& all,
                             Communicator& learners);

// Sums over the epoch's steps of RewardStepStats.
struct EpochTotals {
  RewardStepStats sums;
  int64_t steps = 0;
  // The epoch's means (zeros for an epoch of no steps).
  RewardStepStats Means() const {
    return DividedBy(sums, static_cast<double>(std::max<int64_t>(1, steps)));
  }
};

// Steps an epoch takes: whole batches of spec.batch_size pairs.
int64_t RewardStepsPerEpoch(const RewardTraining& spec, const RewardData& data);

// Steps over the training pairs in a seeded order, n = spec.batch_size a
// step; the meta set (if any) cycles in batches of spec.meta_batch_size.
// `on_step`, when given, sees every step's statistics and the epoch's
// totals so far, that step included (for the per-step logs and a checkpoint
// inside the epoch); an error from it stops the epoch. `done`: the epoch's
// steps already taken (a run resumed inside the epoch); training continues
// at step done.steps and the totals include done's.
using RewardStepObserver = std::function<absl::Status(
    int64_t step, const RewardStepStats& stats, const EpochTotals& so_far)>;
absl::StatusOr<EpochTotals> TrainRewardEpoch(
    const RewardTraining& spec, uint64_t seed, const RewardData& data,
    const Tokenizer& tokenizer, const SequenceLimits& limits,
    RewardTrainer& trainer, Communicator& learners, int epoch,
    const RewardStepObserver& on_step = nullptr, EpochTotals done = {});

// An observer that appends one line per step to kRewardStepLog of `log`:
// the step's Bradley-Terry loss and accuracy and the MetaRM diagnostics
// (reward/reward_step_stats.h), numbered by a running "step", with `fields`
// (the round, the epoch) added.
RewardStepObserver LogRewardSteps(RunLog& log, const nlohmann::json& fields);

// The epoch means under their epoch-line names ("train_loss", ...).
void AddRewardEpochMeans(const RewardStepStats& means, nlohmann::json& line);

}  // namespace metarm

#endif  // METARM_TRAINING_REWARD_TRAINING_H_
