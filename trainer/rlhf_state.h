// What one rank holds during an RLHF job (trainer/rlhf_job.cc); the
// checkpoint code (trainer/rlhf_checkpoint.h) saves and restores it.
#ifndef METARM_TRAINER_RLHF_STATE_H_
#define METARM_TRAINER_RLHF_STATE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "comm/roles.h"
#include "comm/routing_communicator.h"
#include "metrics/run_log.h"
#include "model/transformer.h"
#include "nlohmann/json.hpp"
#include "proto/job.pb.h"
#include "reward/reward_data.h"
#include "reward/reward_trainer.h"
#include "tasks/task.h"
#include "tasks/tokenizer.h"
#include "trainer/ppo_learner.h"
#include "trainer/progress.h"
#include "trainer/reward_training.h"

namespace metarm {

struct RlhfState {
  using Clock = std::chrono::steady_clock;

  RlhfState(const Job& job, ProcessGroups& groups, ProgressStyle progress)
      : job(job), groups(groups), progress(progress) {}

  const Job& job;
  ProcessGroups& groups;
  std::unique_ptr<Task> task;
  // task.tokenizer (tasks/tokenizer_factory.h); set before any model.
  std::unique_ptr<Tokenizer> tokenizer_owned;
  const Tokenizer& tokenizer() const { return *tokenizer_owned; }
  SequenceLimits limits;
  // Learner 0 and the rollout workers that are not learners (null where the
  // rank is in neither, or where no weights need to travel).
  std::unique_ptr<RoutingCommunicator> weight_sync;
  // World ranks of the rollout workers, in rollout order.
  std::vector<int> rollout_roots;
  LanguageModel policy{nullptr};
  // The weights a rollout worker samples with: the policy itself, except on
  // a rank that is both learner and rollout worker when rollouts may lag
  // (ppo.max_staleness > 0), where it is a copy updated at each weight sync.
  LanguageModel rollout_policy{nullptr};
  int64_t rollout_version = 0;
  LanguageModel reference{nullptr};
  ScalarModel reward_model{nullptr};
  std::unique_ptr<RewardTrainer> reward_trainer;  // learners
  std::unique_ptr<PpoLearner> ppo;                // learners
  RewardData reward_data;                         // learners
  int64_t policy_version = 0;                     // PPO updates so far
  int64_t stale_dropped = 0;        // batches older than ppo.max_staleness
  int64_t skipped_in_a_row = 0;     // PPO updates skipped as non-finite
  int64_t checkpoints_written = 0;  // the last checkpoint's sequence number
  nlohmann::json pending_metrics;   // learner 0: this iteration's line so far
  ProgressLine progress;
  std::unique_ptr<RunLog> log;  // learner 0: JSON lines and TensorBoard
  Clock::time_point start = Clock::now();

  // Where this rank's models live (trainer/placement.h).
  torch::Device device() const { return groups.routing.device; }
  bool learner() const { return groups.learners != nullptr; }
  bool writer() const { return learner() && groups.learners->rank() == 0; }
  bool rollout() const { return groups.rollouts != nullptr; }
};

}  // namespace metarm

#endif  // METARM_TRAINER_RLHF_STATE_H_
