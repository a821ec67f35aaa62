#include "trainer/rlhf_job.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "comm/mpi_environment.h"
#include "comm/status_consensus.h"
#include "comm/weight_sync.h"
#include "metrics/run_log.h"
#include "model/transformer_config.h"
#include "model/weights_io.h"
#include "nlohmann/json.hpp"
#include "reward/reward_data.h"
#include "reward/reward_gaps.h"
#include "reward/reward_trainer.h"
#include "rollout/preference_generator.h"
#include "rollout/rollout_worker.h"
#include "tasks/task.h"
#include "tasks/tokenizer_factory.h"
#include "trainer/model_factory.h"
#include "trainer/ppo_learner.h"
#include "trainer/progress.h"
#include "trainer/reward_training.h"
#include "trainer/rlhf_checkpoint.h"
#include "trainer/rlhf_state.h"
#include "trainer/sft.h"
#include "trainer/staleness.h"
#include "util/file.h"
#include "util/status_macros.h"
#include "util/test_crash.h"

namespace metarm {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seeds of the job's random streams: one per purpose, so that adding a draw
// in one place does not shift another.
uint64_t StreamSeed(uint64_t seed, uint64_t purpose, uint64_t a = 0,
                    uint64_t b = 0, uint64_t c = 0) {
  return seed * 1000003 + purpose * 7919 + a * 104729 + b * 1299709 +
         c * 15485863;
}

enum Stream : uint64_t {
  kSftData = 1,
  kPreferencePrompts,
  kPreferenceSamples,
  kPreferenceLabels,
  kRewardInit,
  kMetaPrompts,
  kMetaSamples,
  kRolloutPrompts,
  kRolloutSamples,
  kPpoOrder,
  kEvalPrompts,
  kEvalSamples,
  kEvalLabels,
  kPolicyInit,
};

void CopyParameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto source = from.parameters();
  auto target = to.parameters();
  for (size_t i = 0; i < target.size(); ++i) target[i].copy_(source[i]);
}

SamplingOptions Sampling(const Job& job, const Tokenizer& tokenizer) {
  SamplingOptions options;
  options.temperature = job.ppo().temperature();
  options.top_p = job.ppo().top_p();
  options.max_new_tokens = job.ppo().max_new_tokens();
  options.eos_id = tokenizer.eos_id();
  options.pad_id = tokenizer.pad_id();
  return options;
}

absl::Status SetUpGroups(RlhfState& s) {
  const RankRoles& roles = s.groups.roles;
  // Weights travel from learner 0 to rollout workers that are not learners
  // themselves; a COLOCATED rank's rollout uses its own learner's models.
  const bool member =
      roles.learner_index == 0 || (roles.rollout && !roles.learner);
  METARM_ASSIGN_OR_RETURN(
      s.weight_sync,
      s.groups.SplitWorld(member ? 0 : MpiCommunicator::kNotInGroup,
                          roles.learner_index == 0 ? -1 : roles.rollout_index,
                          "weight_sync"));
  std::vector<RankRoles> all =
      AssignRoles(s.job.topology(), s.groups.world->size());
  s.rollout_roots.assign(s.job.topology().rollout_ranks(), -1);
  for (int rank = 0; rank < static_cast<int>(all.size()); ++rank) {
    if (all[rank].rollout) s.rollout_roots[all[rank].rollout_index] = rank;
  }
  return absl::OkStatus();
}

// Sends `module`'s weights from learner 0 to the rollout workers.
absl::Status SyncWeights(RlhfState& s, torch::nn::Module& module) {
  if (s.weight_sync == nullptr || s.weight_sync->size() == 1) {
    return absl::OkStatus();
  }
  return BroadcastWeights(module.parameters(), s.policy_version, *s.weight_sync,
                          0)
      .status();
}

absl::Status AppendJson(const RlhfState& s, const std::string& file,
                        const nlohmann::json& line) {
  return s.log->Append(file, line);
}

// Round 0: next-token cross-entropy on fresh demonstrations, sharded.
absl::Status RunSft(RlhfState& s) {
  const SftSpec& spec = s.job.sft();
  std::unique_ptr<DataParallelOptimizer> optimizer = MakeModelAdamW(
      s.policy->parameters(), torch::optim::AdamWOptions(spec.learning_rate()),
      *s.groups.learners, s.job.topology().shard_optimizer_state());
  double loss = 0;
  for (uint32_t step = 0; step < spec.steps(); ++step) {
    Rng rng(StreamSeed(s.job.seed(), kSftData, step));
    std::vector<std::string> prompts, demonstrations;
    for (uint32_t i = 0; i < spec.batch_size(); ++i) {
      prompts.push_back(s.task->SamplePrompt(rng));
      demonstrations.push_back(s.task->Demonstration(prompts.back(), rng));
    }
    auto [begin, count] =
        ShardRange(spec.batch_size(), s.groups.learners->rank(),
                   s.groups.learners->size());
    std::vector<std::string> my_prompts(prompts.begin() + begin,
                                        prompts.begin() + begin + count);
    std::vector<std::string> my_demos(demonstrations.begin() + begin,
                                      demonstrations.begin() + begin + count);
    METARM_ASSIGN_OR_RETURN(
        loss, SftStep(s.policy, *optimizer,
                      MakeSftBatch(my_prompts, my_demos, s.tokenizer()),
                      *s.groups.learners));
  }
  if (s.writer()) {
    std::cout << absl::StrFormat(
                     "round 0 (SFT): %d steps, loss %.3f (%.0f s)\n",
                     spec.steps(), loss, SecondsSince(s.start))
              << std::flush;
  }
  return absl::OkStatus();
}

// The original preference pairs D (and held-out pairs): pairs of SFT samples
// labelled by the gold reward. Every learner draws the same ones.
void MakePreferenceData(RlhfState& s) {
  const TaskSpec& task = s.job.task();
  SamplingOptions options = Sampling(s.job, s.tokenizer());
  at::Generator generator = at::detail::createCPUGenerator(
      StreamSeed(s.job.seed(), kPreferenceSamples));
  Rng labels(StreamSeed(s.job.seed(), kPreferenceLabels));
  auto make = [&](int64_t n, uint64_t stream) {
    std::vector<std::string> prompts = SamplePrompts(
        *s.task, n, StreamSeed(s.job.seed(), kPreferencePrompts, stream));
    auto samples = SampleResponses(s.policy, prompts, 2, options, generator,
                                   s.tokenizer());
    return LabelPairs(*s.task, prompts, samples, task.label_temperature(),
                      labels, s.tokenizer());
  };
  s.reward_data.train = make(task.num_preference_pairs(), 0);
  s.reward_data.eval = make(task.num_eval_prompts(), 1);
}

// The meta set: k responses from the current policy for each of
// task.num_train_prompts prompts.
void SampleMetaSet(RlhfState& s, int round) {
  std::vector<std::string> prompts =
      SamplePrompts(*s.task, s.job.task().num_train_prompts(),
                    StreamSeed(s.job.seed(), kMetaPrompts, round));
  at::Generator generator = at::detail::createCPUGenerator(
      StreamSeed(s.job.seed(), kMetaSamples, round));
  auto samples = SampleResponses(
      s.policy, prompts, s.job.reward_training().responses_per_prompt(),
      Sampling(s.job, s.tokenizer()), generator, s.tokenizer());
  s.reward_data.meta = MakeResponseSets(prompts, samples, s.tokenizer());
}

// One line of reward_model.jsonl: the epoch's means of the step
// diagnostics (reward/reward_trainer.h), the measurements that tell the
// MetaRM variants apart.
absl::Status LogRewardEpoch(RlhfState& s, int round, int epoch,
                            const EpochTotals& totals) {
  const double steps = std::max<int64_t>(1, totals.steps);
  const int64_t step = (round - 1) * s.job.reward_training().epochs() + epoch;
  return s.log->Append(
      "reward_model.jsonl",
      {{"step", step + 1},
       {"round", round},
       {"epoch", epoch + 1},
       {"steps", totals.steps},
       {"train_loss", totals.loss / steps},
       {"train_accuracy", totals.accuracy / steps},
       {"meta_objective", totals.objective / steps},
       {"meta_objective_at_prime", totals.objective_at_prime / steps},
       {"meta_objective_after", totals.objective_after / steps},
       {"gradient_cosine", totals.gradient_cosine / steps},
       {"meta_step_ratio", totals.meta_step_ratio / steps}});
}

absl::Status TrainRewardModel(RlhfState& s, int round) {
  const RewardTraining& spec = s.job.reward_training();
  if (s.reward_trainer == nullptr || spec.restart_each_round()) {
    torch::manual_seed(StreamSeed(s.job.seed(), kRewardInit));
    ScalarModel fresh(s.reward_model->config());
    METARM_RETURN_IF_ERROR(LoadPretrained(
        *fresh, fresh->config(), s.job.reward_model(), "reward_model"));
    CopyParameters(*fresh, *s.reward_model);
    s.reward_trainer = std::make_unique<RewardTrainer>(
        s.reward_model, RewardTrainerOptions::FromSpec(spec, s.job.topology()),
        *s.groups.learners);
  }
  EpochTotals totals;
  for (uint32_t epoch = 0; epoch < spec.epochs(); ++epoch) {
    // Learner 0 logs every step's diagnostics to reward_steps.jsonl.
    RewardStepObserver log_step =
        s.writer() ? LogRewardSteps(*s.log, "reward_steps.jsonl",
                                    {{"round", round}, {"epoch", epoch + 1}})
                   : nullptr;
    METARM_ASSIGN_OR_RETURN(
        totals, TrainRewardEpoch(
                    spec, StreamSeed(s.job.seed(), kRewardInit, round),
                    s.reward_data, s.tokenizer(), s.limits, *s.reward_trainer,
                    *s.groups.learners, static_cast<int>(epoch), log_step));
    if (s.writer()) {
      METARM_RETURN_IF_ERROR(
          LogRewardEpoch(s, round, static_cast<int>(epoch), totals));
    }
  }
  if (s.writer()) {
    const double steps = std::max<int64_t>(1, totals.steps);
    std::cout << absl::StrFormat(
                     "round %d: reward model (%s) loss %.3f, train accuracy "
                     "%.3f (%.0f s)\n",
                     round, RewardMode_Name(spec.mode()), totals.loss / steps,
                     totals.accuracy / steps, SecondsSince(s.start))
              << std::flush;
  }
  return absl::OkStatus();
}

// Seconds one PPO iteration spent in each part, as learner 0 sees them; the
// generation and scoring times are the slowest rollout worker's.
struct IterationTimes {
  double generation = 0, scoring = 0, waiting = 0, learning = 0, sync = 0;
};

// Sends the policy's weights from learner 0 to the rollout workers, with the
// policy version they belong to; a rollout worker that is also a learner
// takes them from its own policy.
absl::Status SyncPolicy(RlhfState& s) {
  int64_t version = s.policy_version;
  if (s.weight_sync != nullptr && s.weight_sync->size() > 1) {
    METARM_ASSIGN_OR_RETURN(
        version, BroadcastWeights(s.policy->parameters(), s.policy_version,
                                  *s.weight_sync, 0));
  }
  s.rollout_version = version;
  if (s.rollout() && s.rollout_policy.ptr() != s.policy.ptr()) {
    CopyParameters(*s.policy, *s.rollout_policy);
  }
  return absl::OkStatus();
}

// A rollout worker's batch for PPO iteration `iteration` of `round`: its
// share of the iteration's prompts, sampled with the weights it holds and
// scored. Empty on ranks that are not rollout workers.
Experience SampleBatch(RlhfState& s, int round, int iteration) {
  if (!s.rollout()) return Experience();
  const PpoSpec& spec = s.job.ppo();
  std::vector<std::string> prompts = SamplePrompts(
      *s.task, spec.rollout_batch_size(),
      StreamSeed(s.job.seed(), kRolloutPrompts, round, iteration));
  auto [begin, count] =
      ShardRange(spec.rollout_batch_size(), s.groups.rollouts->rank(),
                 s.groups.rollouts->size());
  std::vector<std::string> my_prompts(prompts.begin() + begin,
                                      prompts.begin() + begin + count);
  at::Generator generator = at::detail::createCPUGenerator(
      StreamSeed(s.job.seed(), kRolloutSamples, round, iteration,
                 s.groups.rollouts->rank()));
  return BuildExperience({&s.rollout_policy, &s.reference, &s.reward_model},
                         my_prompts, Sampling(s.job, s.tokenizer()), generator,
                         s.tokenizer(), s.rollout_version);
}

// An update whose every step was skipped (non-finite loss or gradient) is
// counted; too many in a row stop the job, before a checkpoint could save
// the broken state.
absl::Status CountSkippedUpdate(RlhfState& s, const PpoStats& stats) {
  const bool skipped = stats.steps > 0 && stats.skipped_steps == stats.steps;
  s.skipped_in_a_row = skipped ? s.skipped_in_a_row + 1 : 0;
  if (s.skipped_in_a_row < s.job.ppo().max_skipped_updates()) {
    return absl::OkStatus();
  }
  return absl::AbortedError(absl::StrCat(
      "PPO: ", s.skipped_in_a_row,
      " updates in a row had every step skipped for a non-finite loss or "
      "gradient (ppo.max_skipped_updates); stopping. The last good "
      "checkpoint is the newest in ",
      CheckpointRoot(s.job)));
}

// A checkpoint at `at`, where one is due: at every round's end and, with
// checkpoint.every_iterations = N, after every N-th PPO iteration of a round.
// None while updates are being skipped: that state may be broken.
absl::Status CheckpointIfDue(RlhfState& s, RunPosition at, bool round_end) {
  if (!s.learner() || s.skipped_in_a_row > 0) return absl::OkStatus();
  const int every = static_cast<int>(s.job.checkpoint().every_iterations());
  const int iterations = static_cast<int>(s.job.ppo().iterations_per_round());
  const bool due = round_end || (every > 0 && at.iterations_done % every == 0 &&
                                 at.iterations_done < iterations);
  return due ? SaveRlhfCheckpoint(s, at) : absl::OkStatus();
}

// The learners' half of an iteration: drop batches older than
// ppo.max_staleness, update on the rest, and (learner 0) log the iteration.
absl::Status Learn(RlhfState& s, std::vector<Experience> parts, int round,
                   int iteration, IterationTimes& times) {
  for (const Experience& part : parts) {
    times.generation = std::max(times.generation, part.generation_seconds);
    times.scoring = std::max(times.scoring, part.scoring_seconds);
  }
  FreshExperience fresh = DropStale(std::move(parts), s.policy_version,
                                    s.job.ppo().max_staleness());
  s.stale_dropped += fresh.dropped;
  if (fresh.kept.empty()) return absl::OkStatus();  // nothing to learn from
  Clock::time_point t0 = Clock::now();
  Experience batch = ConcatenateExperience(fresh.kept);
  METARM_ASSIGN_OR_RETURN(
      PpoStats stats, s.ppo->Update(batch, StreamSeed(s.job.seed(), kPpoOrder,
                                                      round, iteration)));
  ++s.policy_version;
  times.learning = SecondsSince(t0);
  METARM_RETURN_IF_ERROR(CountSkippedUpdate(s, stats));
  if (!s.writer()) return absl::OkStatus();

  double gold = 0;
  for (const auto& [prompt, response] :
       DecodeExperience(batch, s.tokenizer())) {
    gold += s.task->GoldReward(prompt, response);
  }
  s.pending_metrics = {{"round", round},
                       {"iteration", iteration + 1},
                       {"policy_version", s.policy_version},
                       {"batch_staleness", fresh.max_age},
                       {"policy_loss", stats.policy_loss},
                       {"value_loss", stats.value_loss},
                       {"entropy", stats.entropy},
                       {"clip_fraction", stats.clip_fraction},
                       {"approx_kl", stats.approx_kl},
                       {"kl_to_reference", stats.kl_to_reference},
                       {"kl_coef", s.ppo->kl_coef()},
                       {"proxy_reward_mean", stats.mean_score},
                       {"gold_reward_mean", gold / batch.size()},
                       {"skipped_steps", stats.skipped_steps},
                       {"stale_dropped", s.stale_dropped}};
  return absl::OkStatus();
}

absl::Status WriteIterationMetrics(RlhfState& s, const IterationTimes& times) {
  if (!s.writer() || s.pending_metrics.is_null()) return absl::OkStatus();
  nlohmann::json line = std::move(s.pending_metrics);
  s.pending_metrics = nullptr;
  line["seconds"] = {{"generation", times.generation},
                     {"scoring", times.scoring},
                     {"waiting_for_experience", times.waiting},
                     {"learning", times.learning},
                     {"weight_sync", times.sync}};
  return AppendJson(s, "metrics.jsonl", line);
}

void ShowProgress(RlhfState& s, int round, int iteration) {
  if (!s.writer() || !s.job.logging().progress()) return;
  const int rounds = static_cast<int>(s.job.rounds());
  const int iterations = static_cast<int>(s.job.ppo().iterations_per_round());
  const double done = (round - 1) * iterations + iteration + 1;
  const double eta =
      SecondsSince(s.start) / done * (rounds * iterations - done);
  s.progress.Show(
      absl::StrFormat("round %d/%d, PPO iteration %d/%d, ETA %.0f s", round,
                      rounds, iteration + 1, iterations, eta));
  if (iteration + 1 == iterations) s.progress.Finish();
}

// The PPO iterations of one round. Rollouts run `lag` = ppo.max_staleness
// batches ahead of the learners: batch i is sampled with the weights of
// update i - lag (the round's first weights for i < lag), so in a SEPARATE
// layout the rollout workers sample batch i + lag while the learners update
// on batch i. lag 0 is synchronous and on-policy. The schedule is fixed, not
// raced, so a run is deterministic for any lag and layout.
//
// A run resumed inside a round starts at `first`; checkpoints inside a round
// are only taken with lag 0 (job validation), so no sampled batch is lost.
absl::Status RunPpoIterations(RlhfState& s, int round, int first) {
  const int iterations = static_cast<int>(s.job.ppo().iterations_per_round());
  const int lag = std::min<int>(s.job.ppo().max_staleness(), iterations);
  std::deque<Experience> sampled;  // rollout workers: not yet shared
  for (int i = 0; i < lag; ++i) sampled.push_back(SampleBatch(s, round, i));
  for (int iteration = first; iteration < iterations; ++iteration) {
    IterationTimes times;
    if (lag == 0) sampled.push_back(SampleBatch(s, round, iteration));
    Clock::time_point t0 = Clock::now();
    METARM_ASSIGN_OR_RETURN(std::vector<Experience> parts,
                            ShareExperience(sampled.front(), *s.groups.world,
                                            s.rollout_roots, s.device()));
    sampled.pop_front();
    times.waiting = SecondsSince(t0);
    if (lag > 0 && iteration + lag < iterations) {
      sampled.push_back(SampleBatch(s, round, iteration + lag));
    }
    if (s.learner()) {
      METARM_RETURN_IF_ERROR(
          Learn(s, std::move(parts), round, iteration, times));
    }
    t0 = Clock::now();
    METARM_RETURN_IF_ERROR(SyncPolicy(s));
    times.sync = SecondsSince(t0);
    METARM_RETURN_IF_ERROR(WriteIterationMetrics(s, times));
    ShowProgress(s, round, iteration);
    METARM_RETURN_IF_ERROR(CheckpointIfDue(s, {round, iteration + 1}, false));
  }
  return absl::OkStatus();
}

// One line of eval_samples.jsonl: the held-out prompts, the policy's first
// response to each, its gold reward and (from round 1) its reward-model
// score, so that two runs can be compared prompt by prompt.
absl::Status WriteEvalSamples(
    RlhfState& s, int round, const std::vector<std::string>& prompts,
    const std::vector<std::vector<std::string>>& samples,
    const std::vector<double>& gold, const torch::Tensor& proxy) {
  std::vector<std::string> responses;
  for (const auto& sample : samples) responses.push_back(sample[0]);
  nlohmann::json line = {{"round", round},
                         {"prompts", prompts},
                         {"responses", responses},
                         {"gold_reward", gold}};
  if (proxy.defined()) {
    torch::Tensor values = proxy.to(torch::kCPU, torch::kFloat64).contiguous();
    line["proxy_reward"] = std::vector<double>(
        values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  }
  return AppendJson(s, "eval_samples.jsonl", line);
}

// Per-round evaluation on learner 0, on held-out prompts (the same every
// round).
absl::Status Evaluate(RlhfState& s, int round) {
  const EvalSpec& eval = s.job.eval();
  std::vector<std::string> prompts = SamplePrompts(
      *s.task, eval.num_prompts(), StreamSeed(s.job.seed(), kEvalPrompts));
  SamplingOptions options = Sampling(s.job, s.tokenizer());
  at::Generator generator = at::detail::createCPUGenerator(
      StreamSeed(s.job.seed(), kEvalSamples, round));
  const int k =
      static_cast<int>(s.job.reward_training().responses_per_prompt());
  auto policy_samples =
      SampleResponses(s.policy, prompts, k, options, generator, s.tokenizer());
  auto sft_samples = SampleResponses(s.reference, prompts, 1, options,
                                     generator, s.tokenizer());
  int win = 0, tie = 0, lose = 0;
  double gold = 0;
  std::vector<double> gold_per_prompt;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const double mine = s.task->GoldReward(prompts[i], policy_samples[i][0]);
    const double sft = s.task->GoldReward(prompts[i], sft_samples[i][0]);
    gold_per_prompt.push_back(mine);
    gold += mine;
    if (std::abs(mine - sft) <= eval.tie_band()) {
      ++tie;
    } else {
      (mine > sft ? win : lose) += 1;
    }
  }
  s.reward_model->eval();
  torch::Tensor scores = ScoreResponseSets(
      s.reward_model, MakeResponseSets(prompts, policy_samples, s.tokenizer()),
      s.limits, s.tokenizer());
  RewardGapStats gaps = ComputeRewardGaps(scores);
  // Fresh gold-labelled pairs from the current policy: the shifted
  // distribution.
  std::vector<std::string> shifted_prompts =
      SamplePrompts(*s.task, eval.shifted_pairs(),
                    StreamSeed(s.job.seed(), kEvalPrompts, round));
  auto shifted_samples = SampleResponses(s.policy, shifted_prompts, 2, options,
                                         generator, s.tokenizer());
  Rng labels(StreamSeed(s.job.seed(), kEvalLabels, round));
  std::vector<PreferencePair> shifted =
      LabelPairs(*s.task, shifted_prompts, shifted_samples,
                 s.job.task().label_temperature(), labels, s.tokenizer());
  const double n = static_cast<double>(prompts.size());
  nlohmann::json line = {
      {"round", round},
      {"gold_reward_mean", gold / n},
      {"proxy_reward_mean", scores.select(1, 0).mean().item<double>()},
      {"win", win / n},
      {"tie", tie / n},
      {"lose", lose / n},
      {"rm_acc_original", EvaluateAccuracy(s.reward_model, s.reward_data.eval,
                                           s.limits, s.tokenizer())},
      {"rm_acc_shifted",
       EvaluateAccuracy(s.reward_model, shifted, s.limits, s.tokenizer())},
      {"reward_gap_mean", gaps.normalized.mean},
      {"reward_gap_raw_mean", gaps.raw.mean},
      {"reward_gaps", RewardGapStatsToJson(gaps)},
      {"kl_to_reference", 0.0},
      {"seconds", SecondsSince(s.start)}};
  s.reward_model->train();
  // KL(π || π_ref) estimated on the policy's own samples:
  // mean over prompts of Σ_t (log π − log π_ref).
  at::Generator kl_generator = at::detail::createCPUGenerator(
      StreamSeed(s.job.seed(), kEvalSamples, round, 1));
  Experience kl_batch =
      BuildExperience({&s.policy, &s.reference, &s.reward_model}, prompts,
                      options, kl_generator, s.tokenizer());
  line["kl_to_reference"] =
      ((kl_batch.old_logprobs - kl_batch.ref_logprobs) * kl_batch.response_mask)
          .sum(1)
          .mean()
          .item<double>();
  std::cout << absl::StrFormat(
                   "round %d: gold %.3f, proxy %.3f, win/tie/lose vs SFT "
                   "%.2f/%.2f/%.2f, RM accuracy original %.3f shifted %.3f "
                   "(%.0f s)\n",
                   round, line["gold_reward_mean"].get<double>(),
                   line["proxy_reward_mean"].get<double>(), win / n, tie / n,
                   lose / n, line["rm_acc_original"].get<double>(),
                   line["rm_acc_shifted"].get<double>(), SecondsSince(s.start))
            << std::flush;
  METARM_RETURN_IF_ERROR(WriteEvalSamples(
      s, round, prompts, policy_samples, gold_per_prompt, scores.select(1, 0)));
  return AppendJson(s, "rounds.jsonl", line);
}

// The SFT policy's own evaluation line (round 0), for reference.
absl::Status EvaluateSft(RlhfState& s) {
  std::vector<std::string> prompts =
      SamplePrompts(*s.task, s.job.eval().num_prompts(),
                    StreamSeed(s.job.seed(), kEvalPrompts));
  at::Generator generator =
      at::detail::createCPUGenerator(StreamSeed(s.job.seed(), kEvalSamples, 0));
  auto samples =
      SampleResponses(s.reference, prompts, 1, Sampling(s.job, s.tokenizer()),
                      generator, s.tokenizer());
  double gold = 0;
  std::vector<double> gold_per_prompt;
  for (size_t i = 0; i < prompts.size(); ++i) {
    gold_per_prompt.push_back(s.task->GoldReward(prompts[i], samples[i][0]));
    gold += gold_per_prompt.back();
  }
  METARM_RETURN_IF_ERROR(
      WriteEvalSamples(s, 0, prompts, samples, gold_per_prompt, {}));
  const double mean = gold / prompts.size();
  std::cout << absl::StrFormat("round 0: SFT policy gold %.3f\n", mean)
            << std::flush;
  return AppendJson(s, "rounds.jsonl",
                    {{"round", 0},
                     {"gold_reward_mean", mean},
                     {"win", 0.0},
                     {"tie", 1.0},
                     {"lose", 0.0}});
}

// Round 0 of a new run: SFT, the frozen reference, the original pairs.
absl::Status StartRun(RlhfState& s) {
  if (s.writer()) {
    METARM_ASSIGN_OR_RETURN(s.log,
                            RunLog::Start(s.job.output_dir(), RlhfLogFiles(),
                                          s.job.logging().tensorboard()));
  }
  if (s.learner()) METARM_RETURN_IF_ERROR(RunSft(s));
  METARM_RETURN_IF_ERROR(SyncPolicy(s));
  CopyParameters(*s.policy, *s.reference);  // the frozen SFT reference
  if (s.writer()) METARM_RETURN_IF_ERROR(EvaluateSft(s));
  if (s.learner()) MakePreferenceData(s);
  return CheckpointIfDue(s, {0, 0}, true);
}

// One round from its `first` PPO iteration (0 unless resumed inside it).
absl::Status RunRound(RlhfState& s, int round, int first) {
  if (s.learner() && first == 0) {
    if (s.job.reward_training().mode() != VANILLA) SampleMetaSet(s, round);
    METARM_RETURN_IF_ERROR(TrainRewardModel(s, round));
    if (s.ppo == nullptr) {
      // The critic starts from the first round's reward model.
      ScalarModel critic(s.reward_model->config());
      critic->to(s.device());
      CopyParameters(*s.reward_model, *critic);
      s.ppo = std::make_unique<PpoLearner>(
          s.policy, critic, s.job.ppo(), *s.groups.learners,
          s.job.topology().shard_optimizer_state());
    }
  }
  METARM_RETURN_IF_ERROR(SyncWeights(s, *s.reward_model));
  METARM_RETURN_IF_ERROR(RunPpoIterations(s, round, first));
  if (s.writer()) {
    CrashPointForTest("round_end");
    METARM_RETURN_IF_ERROR(Evaluate(s, round));
  }
  // Every learner: a sharded optimizer's state is gathered for the writer.
  return CheckpointIfDue(
      s, {round, static_cast<int>(s.job.ppo().iterations_per_round())}, true);
}

// The whole run, or its rest from `resumed` (a checkpoint's position).
absl::Status RunRounds(RlhfState& s, std::optional<RunPosition> resumed) {
  if (resumed.has_value()) {
    METARM_RETURN_IF_ERROR(SyncPolicy(s));
  } else {
    METARM_RETURN_IF_ERROR(StartRun(s));
  }
  for (auto& p : s.reference->parameters()) p.set_requires_grad(false);
  const int iterations = static_cast<int>(s.job.ppo().iterations_per_round());
  RunPosition at = resumed.value_or(RunPosition{});
  const bool round_done = at.round == 0 || at.iterations_done >= iterations;
  int round = round_done ? at.round + 1 : at.round;
  int first = round_done ? 0 : at.iterations_done;
  for (; round <= static_cast<int>(s.job.rounds()); ++round, first = 0) {
    METARM_RETURN_IF_ERROR(RunRound(s, round, first));
  }
  if (s.writer()) {
    METARM_RETURN_IF_ERROR(SaveWeights(*s.policy, s.policy->config(),
                                       s.job.output_dir() + "/policy.pt"));
    METARM_RETURN_IF_ERROR(ExportIfAsked(*s.policy, s.policy->config(),
                                         s.job.policy(), "policy",
                                         s.job.output_dir()));
    METARM_RETURN_IF_ERROR(ExportIfAsked(
        *s.reward_model, s.reward_model->config(), s.job.reward_model(),
        "reward_model", s.job.output_dir()));
  }
  return absl::OkStatus();
}

// The tokenizer and the models, the same on every rank: initialised on the
// CPU from the seeds or a pretrained folder, then moved to this rank's
// device (optimizers are made after the move).
absl::Status BuildModels(RlhfState& s) {
  METARM_ASSIGN_OR_RETURN(s.tokenizer_owned,
                          MakeTokenizer(s.job.task().tokenizer()));
  METARM_ASSIGN_OR_RETURN(
      TransformerConfig policy,
      ModelConfig(s.job.policy(), "policy", s.tokenizer(), s.limits));
  METARM_ASSIGN_OR_RETURN(TransformerConfig reward,
                          ModelConfig(s.job.reward_model(), "reward_model",
                                      s.tokenizer(), s.limits));
  torch::manual_seed(StreamSeed(s.job.seed(), kPolicyInit));
  s.policy = LanguageModel(policy);
  METARM_RETURN_IF_ERROR(
      LoadPretrained(*s.policy, policy, s.job.policy(), "policy"));
  s.reference = LanguageModel(policy);
  s.rollout_policy =
      s.learner() && s.rollout() && s.job.ppo().max_staleness() > 0
          ? LanguageModel(policy)
          : s.policy;
  torch::manual_seed(StreamSeed(s.job.seed(), kRewardInit));
  s.reward_model = ScalarModel(reward);
  METARM_RETURN_IF_ERROR(LoadPretrained(*s.reward_model, reward,
                                        s.job.reward_model(), "reward_model"));
  s.policy->to(s.device());
  s.reference->to(s.device());
  s.rollout_policy->to(s.device());
  s.reward_model->to(s.device());
  return absl::OkStatus();
}

// Every rank: the checkpoint to continue from, if any. With
// `require_resume`, having none is an error.
absl::StatusOr<std::optional<RunPosition>> FindResumePoint(
    RlhfState& s, bool require_resume) {
  absl::StatusOr<std::optional<RunPosition>> at = RestoreRlhfCheckpoint(s);
  METARM_RETURN_IF_ERROR(AgreeOnStatus(*s.groups.world, at.status()));
  if (!at->has_value()) {
    if (!require_resume) return at;
    return absl::FailedPreconditionError(
        absl::StrCat("--resume: no checkpoint in ", CheckpointRoot(s.job)));
  }
  if (s.groups.world->rank() == 0) {
    std::cout << absl::StrFormat(
                     "metarm: resuming from the checkpoint in %s: round %d, "
                     "%d PPO iterations done\n",
                     CheckpointRoot(s.job), (*at)->round,
                     (*at)->iterations_done)
              << std::flush;
  }
  return at;
}

}  // namespace

absl::Status RunRlhfJob(const Job& job, ProcessGroups& groups,
                        const RlhfOptions& options) {
  RlhfState s(job, groups, options.progress);
  absl::Status ready = absl::OkStatus();
  absl::StatusOr<std::unique_ptr<Task>> task = MakeTask(job.task().name());
  if (!task.ok()) ready = task.status();
  if (ready.ok()) {
    s.task = *std::move(task);
    s.limits = {job.task().max_prompt_tokens(),
                job.task().max_response_tokens()};
    ready = SetUpGroups(s);
  }
  if (ready.ok() && groups.world->rank() == 0) {
    ready = MakeDirectories(job.output_dir());
  }
  if (ready.ok()) ready = BuildModels(s);
  METARM_RETURN_IF_ERROR(AgreeOnStatus(*groups.world, ready));
  absl::StatusOr<std::optional<RunPosition>> resumed =
      FindResumePoint(s, options.require_resume);
  if (!resumed.ok()) return resumed.status();  // the same on every rank
  absl::Status result = RunRounds(s, *resumed);
  if (!result.ok()) {
    // Other ranks may be waiting for this one in a collective: end the job.
    std::cerr << "metarm: rank " << groups.world->rank() << " (host "
              << MpiEnvironment::HostName() << ") failed: " << result.message()
              << "\n"
              << std::flush;
    MpiEnvironment::AbortJob(1);
  }
  return groups.world->Barrier();
}

}  // namespace metarm
