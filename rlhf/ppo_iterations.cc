#include "rlhf/ppo_iterations.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ppo/staleness.h"
#include "rlhf/weight_transfer.h"
#include "rollout/preference_generator.h"
#include "rollout/rollout_worker.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

constexpr char kIterationLog[] = "metrics.jsonl";

// Seconds one PPO iteration spent in each part, as learner 0 sees them; the
// generation and scoring times are the slowest rollout worker's.
struct IterationTimes {
  double generation = 0, scoring = 0, waiting = 0, learning = 0, sync = 0;
};

// A rollout worker's batch for PPO iteration `iteration` of `round`: its
// share of the iteration's prompts, sampled with the weights it holds and
// scored. Empty on ranks that are not rollout workers.
absl::StatusOr<Experience> SampleBatch(const RunInputs& in,
                                       const RankGroups& ranks,
                                       RlhfModels& models,
                                       int64_t rollout_version, int round,
                                       int iteration) {
  if (!ranks.rollout()) return Experience();
  const PpoSpec& spec = in.job.ppo();
  Communicator& rollouts = *ranks.groups.rollouts;
  std::vector<std::string> prompts = in.data.TrainPrompts(
      spec.rollout_batch_size(),
      in.streams.Seed(Stream::kRolloutPrompts, round, iteration));
  auto [begin, count] =
      ShardRange(spec.rollout_batch_size(), rollouts.rank(), rollouts.size());
  std::vector<std::string> my_prompts(prompts.begin() + begin,
                                      prompts.begin() + begin + count);
  // Sequence i of the iteration's batch draws from its own stream, whichever
  // rollout worker samples it.
  const SampleStreams streams{
      in.streams.Seed(Stream::kRolloutSamples, round, iteration), begin};
  return BuildExperience(
      {&models.rollout_policy, &models.reference, &models.reward_model},
      my_prompts, in.generation, streams, in.tokenizer, rollout_version);
}

// An update whose every step was skipped (non-finite loss or gradient) is
// counted; too many in a row stop the job, before a checkpoint could save
// the broken state.
absl::Status CountSkippedUpdate(const Job& job, const PpoStats& stats,
                                PolicyCounters& counters) {
  const bool skipped = stats.steps > 0 && stats.skipped_steps == stats.steps;
  counters.skipped_in_a_row = skipped ? counters.skipped_in_a_row + 1 : 0;
  if (counters.skipped_in_a_row < job.ppo().max_skipped_updates()) {
    return absl::OkStatus();
  }
  return absl::AbortedError(absl::StrCat(
      "PPO: ", counters.skipped_in_a_row,
      " updates in a row had every step skipped for a non-finite loss or "
      "gradient (ppo.max_skipped_updates); stopping. The last good "
      "checkpoint is the newest in ",
      job.output_dir(), "/checkpoints"));
}

// The learners' half of an iteration: drop batches older than
// ppo.max_staleness, update on the rest. Learner 0 gets the iteration's
// metrics line (without its timings); nothing when no batch was fresh.
absl::StatusOr<std::optional<nlohmann::json>> Learn(
    const RunInputs& in, std::vector<Experience> parts, int round,
    int iteration, bool writer, PpoLearner& ppo, PolicyCounters& counters,
    IterationTimes& times) {
  for (const Experience& part : parts) {
    times.generation = std::max(times.generation, part.generation_seconds);
    times.scoring = std::max(times.scoring, part.scoring_seconds);
  }
  FreshExperience fresh = DropStale(std::move(parts), counters.policy_version,
                                    in.job.ppo().max_staleness());
  counters.stale_dropped += fresh.dropped;
  if (fresh.kept.empty()) return std::nullopt;  // nothing to learn from
  Clock::time_point t0 = Clock::now();
  Experience batch = ConcatenateExperience(fresh.kept);
  METARM_ASSIGN_OR_RETURN(
      PpoStats stats,
      ppo.Update(batch, in.streams.Seed(Stream::kPpoOrder, round, iteration),
                 (round - 1) * int64_t{in.job.ppo().iterations_per_round()} +
                     iteration));
  ++counters.policy_version;
  times.learning = SecondsSince(t0);
  METARM_RETURN_IF_ERROR(CountSkippedUpdate(in.job, stats, counters));
  if (!writer) return std::nullopt;
  nlohmann::json line{{"round", round},
                      {"iteration", iteration + 1},
                      {"policy_version", counters.policy_version},
                      {"batch_staleness", fresh.max_age},
                      {"policy_loss", stats.policy_loss},
                      {"value_loss", stats.value_loss},
                      {"entropy", stats.entropy},
                      {"clip_fraction", stats.clip_fraction},
                      {"approx_kl", stats.approx_kl},
                      {"kl_to_reference", stats.kl_to_reference},
                      {"kl_coef", ppo.kl_coef()},
                      {"proxy_reward_mean", stats.mean_score},
                      {"skipped_steps", stats.skipped_steps},
                      {"policy_learning_rate", stats.policy_learning_rate},
                      {"value_learning_rate", stats.value_learning_rate},
                      {"policy_grad_norm", stats.policy_grad_norm},
                      {"value_grad_norm", stats.value_grad_norm},
                      {"stale_dropped", counters.stale_dropped}};
  // The testbed's gold reward is cheap enough to watch every iteration; a
  // judge model is asked once a round (rlhf/evaluation.h).
  if (const Task* gold = in.data.gold()) {
    double sum = 0;
    for (const auto& [prompt, response] :
         DecodeExperience(batch, in.tokenizer)) {
      sum += gold->GoldReward(prompt, response);
    }
    line["gold_reward_mean"] = sum / batch.size();
  }
  return line;
}

absl::Status WriteIterationMetrics(nlohmann::json line,
                                   const IterationTimes& times, RunLog& log) {
  line["seconds"] = {{"generation", times.generation},
                     {"scoring", times.scoring},
                     {"waiting_for_experience", times.waiting},
                     {"learning", times.learning},
                     {"weight_sync", times.sync}};
  return log.Append(kIterationLog, line);
}

void ShowProgress(const Job& job, int round, int iteration, RunOutput& output) {
  if (!job.logging().progress()) return;
  const int rounds = static_cast<int>(job.rounds());
  const int iterations = static_cast<int>(job.ppo().iterations_per_round());
  const double done = (round - 1) * iterations + iteration + 1;
  const double eta =
      SecondsSince(output.start) / done * (rounds * iterations - done);
  output.progress.Show(
      absl::StrFormat("round %d/%d, PPO iteration %d/%d, ETA %.0f s", round,
                      rounds, iteration + 1, iterations, eta));
  if (iteration + 1 == iterations) output.progress.Finish();
}

}  // namespace

absl::Status RunPpoIterations(const RunInputs& in, int round, int first,
                              const RankGroups& ranks, RlhfModels& models,
                              PpoLearner* ppo, PolicyCounters& counters,
                              RunOutput& output,
                              const IterationCheckpoint& checkpoint) {
  const int iterations = static_cast<int>(in.job.ppo().iterations_per_round());
  const int lag = std::min<int>(in.job.ppo().max_staleness(), iterations);
  std::deque<Experience> sampled;  // rollout workers: not yet shared
  auto sample = [&](int iteration) -> absl::Status {
    METARM_ASSIGN_OR_RETURN(
        Experience batch,
        SampleBatch(in, ranks, models, counters.rollout_version, round,
                    iteration),
        "round ", round, ", PPO iteration ", iteration + 1, ": sampling");
    sampled.push_back(std::move(batch));
    return absl::OkStatus();
  };
  for (int i = 0; i < lag; ++i) METARM_RETURN_IF_ERROR(sample(i));
  for (int iteration = first; iteration < iterations; ++iteration) {
    IterationTimes times;
    if (lag == 0) METARM_RETURN_IF_ERROR(sample(iteration));
    Clock::time_point t0 = Clock::now();
    METARM_ASSIGN_OR_RETURN(
        std::vector<Experience> parts,
        ShareExperience(sampled.front(), *ranks.groups.world,
                        ranks.rollout_roots, ranks.device()),
        "round ", round, ", PPO iteration ", iteration + 1,
        ": sharing the rollout batches");
    sampled.pop_front();
    times.waiting = SecondsSince(t0);
    if (lag > 0 && iteration + lag < iterations) {
      METARM_RETURN_IF_ERROR(sample(iteration + lag));
    }
    std::optional<nlohmann::json> metrics;
    if (ranks.learner()) {
      METARM_ASSIGN_OR_RETURN(metrics,
                              Learn(in, std::move(parts), round, iteration,
                                    ranks.writer(), *ppo, counters, times),
                              "round ", round, ", PPO iteration ",
                              iteration + 1);
    }
    t0 = Clock::now();
    METARM_RETURN_IF_ERROR(SyncPolicy(ranks, models, counters), "round ", round,
                           ", PPO iteration ", iteration + 1);
    times.sync = SecondsSince(t0);
    if (ranks.writer()) {
      if (metrics.has_value()) {
        METARM_RETURN_IF_ERROR(
            WriteIterationMetrics(*std::move(metrics), times, *output.log));
      }
      ShowProgress(in.job, round, iteration, output);
    }
    METARM_RETURN_IF_ERROR(checkpoint({round, iteration + 1}));
  }
  return absl::OkStatus();
}

}  // namespace metarm
