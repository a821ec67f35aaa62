// What one rank holds during an RLHF job, in parts that the round's steps
// take one by one (rlhf/rlhf_job.cc): each step names the parts it reads and
// the parts it changes in its signature.
//
//   RunInputs       the job, its data, tokenizer and random streams (read
//                   only)
//   RankGroups      this rank's communicators and roles
//   RlhfModels      the policy, its rollout copy, the reference, the reward
//                   model, the judge
//   LearnerParts    the learners' trainers and preference data
//   PolicyCounters  policy versions and skip/stale counts
//   RunOutput       learner 0's logs, progress line and checkpoint count
#ifndef METARM_RLHF_RUN_PARTS_H_
#define METARM_RLHF_RUN_PARTS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "cluster/roles.h"
#include "comm/routing_communicator.h"
#include "metrics/progress.h"
#include "metrics/run_log.h"
#include "model/transformer.h"
#include "optim/data_parallel_optimizer.h"
#include "ppo/ppo_learner.h"
#include "proto/job.pb.h"
#include "reward/reward_data.h"
#include "reward/reward_trainer.h"
#include "rlhf/judge.h"
#include "rlhf/run_data.h"
#include "rollout/generation_engine.h"
#include "tasks/tokenizer.h"
#include "training/reward_training.h"
#include "util/random_streams.h"

namespace metarm {

using Clock = std::chrono::steady_clock;

// Seconds from `start` to now.
double SecondsSince(Clock::time_point start);

// The run's fixed inputs: the same on every rank, never changed.
struct RunInputs {
  const Job& job;
  const RlhfData& data;  // the testbed's task or the user's files
  const Tokenizer& tokenizer;
  SequenceLimits limits;
  RandomStreams streams;
  // ppo.temperature, top_p, max_new_tokens, the template's end tokens; the
  // generation engine's settings (the job's `generation`)
  GenerationSettings generation;
};

// This rank's groups and roles in the run.
struct RankGroups {
  ProcessGroups& groups;
  // Learner 0 and the rollout workers that are not learners (null where the
  // rank is in neither, or where no weights need to travel).
  std::unique_ptr<RoutingCommunicator> weight_sync;
  // World ranks of the rollout workers, in rollout order.
  std::vector<int> rollout_roots;

  bool learner() const { return groups.learners != nullptr; }
  bool writer() const { return learner() && groups.learners->rank() == 0; }
  bool rollout() const { return groups.rollouts != nullptr; }
  // Where this rank's models live (trainer/placement.h).
  torch::Device device() const { return groups.routing.device; }
};

struct RlhfModels {
  LanguageModel policy{nullptr};
  // The weights a rollout worker samples with: the policy itself, except on
  // a rank that is both learner and rollout worker when rollouts may lag
  // (ppo.max_staleness > 0), where it is a copy updated at each weight sync.
  LanguageModel rollout_policy{nullptr};
  LanguageModel reference{nullptr};  // the frozen SFT policy
  ScalarModel reward_model{nullptr};
  // Learner 0 only: who judges the evaluation (the gold reward, eval.judge's
  // model, or null without a judge).
  std::unique_ptr<Judge> judge;
};

// The learners' trainers (null until their first round) and data.
struct LearnerParts {
  // SFT's optimizer, while round 0's SFT runs (a checkpoint inside SFT
  // saves its state).
  std::unique_ptr<DataParallelOptimizer> sft_optimizer;
  std::unique_ptr<RewardTrainer> reward_trainer;
  std::unique_ptr<PpoLearner> ppo;
  RewardData reward_data;
  // Inside a round's reward-model training, at a checkpoint written there:
  // the totals of the epoch in progress (its line in reward_model.jsonl is
  // their means).
  EpochTotals reward_epoch_so_far;
};

struct PolicyCounters {
  int64_t policy_version = 0;    // PPO updates so far
  int64_t rollout_version = 0;   // the version the rollout weights hold
  int64_t stale_dropped = 0;     // batches older than ppo.max_staleness
  int64_t skipped_in_a_row = 0;  // PPO updates skipped as non-finite
};

// What learner 0 writes; the other ranks hold an empty one.
struct RunOutput {
  explicit RunOutput(ProgressStyle style) : progress(style) {}
  std::unique_ptr<RunLog> log;  // JSON lines and TensorBoard
  ProgressLine progress;
  Clock::time_point start = Clock::now();
  int64_t checkpoints_written = 0;  // the last checkpoint's sequence number
};

// Where a run stands: after `iterations_done` PPO iterations of `round`.
// Round 0 is after SFT (the reference and the original pairs made); a round
// with all its iterations done has been evaluated too. A run stopped inside
// SFT is at round 0 with `sft_steps_done` >= 0: that many of sft.steps done,
// no reference and no pairs yet; one stopped inside a round's reward-model
// training has `reward_steps_done` >= 0.
struct RunPosition {
  int round = 0;
  int iterations_done = 0;
  int sft_steps_done = -1;  // -1: SFT is over (or the run is past round 0)
  // >= 0: stopped inside `round`'s reward-model training after that many of
  // its steps (over all its epochs); no PPO iteration of the round done.
  int64_t reward_steps_done = -1;

  bool inside_sft() const { return sft_steps_done >= 0; }
  bool inside_reward_training() const { return reward_steps_done >= 0; }
};

}  // namespace metarm

#endif  // METARM_RLHF_RUN_PARTS_H_
