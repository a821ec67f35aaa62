#include "rlhf/evaluation.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <iostream>

#include "absl/strings/str_format.h"
#include "reward/reward_gaps.h"
#include "rollout/preference_generator.h"
#include "rollout/rollout_worker.h"
#include "util/random.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

constexpr char kRoundsLog[] = "rounds.jsonl";
constexpr char kEvalSamplesLog[] = "eval_samples.jsonl";

std::vector<std::string> HeldOutPrompts(const RunInputs& in) {
  return SamplePrompts(in.task, in.job.eval().num_prompts(),
                       in.streams.Seed(Stream::kEvalPrompts));
}

// One line of eval_samples.jsonl: the held-out prompts, the policy's first
// response to each, its gold reward and (from round 1) its reward-model
// score, so that two runs can be compared prompt by prompt.
absl::Status WriteEvalSamples(
    int round, const std::vector<std::string>& prompts,
    const std::vector<std::vector<std::string>>& samples,
    const std::vector<double>& gold, const torch::Tensor& proxy, RunLog& log) {
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
  return log.Append(kEvalSamplesLog, line);
}

// Win / tie / lose of the policy's first response against the SFT policy's,
// by the gold reward (a tie within eval.tie_band), and the gold rewards.
struct GoldComparison {
  double win = 0, tie = 0, lose = 0, mean = 0;
  std::vector<double> per_prompt;
};

GoldComparison CompareByGold(
    const RunInputs& in, const std::vector<std::string>& prompts,
    const std::vector<std::vector<std::string>>& policy_samples,
    const std::vector<std::vector<std::string>>& sft_samples) {
  int win = 0, tie = 0, lose = 0;
  double gold = 0;
  GoldComparison result;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const double mine = in.task.GoldReward(prompts[i], policy_samples[i][0]);
    const double sft = in.task.GoldReward(prompts[i], sft_samples[i][0]);
    result.per_prompt.push_back(mine);
    gold += mine;
    if (std::abs(mine - sft) <= in.job.eval().tie_band()) {
      ++tie;
    } else {
      (mine > sft ? win : lose) += 1;
    }
  }
  const double n = static_cast<double>(prompts.size());
  result.win = win / n;
  result.tie = tie / n;
  result.lose = lose / n;
  result.mean = gold / n;
  return result;
}

// Fresh gold-labelled pairs from the current policy: the shifted
// distribution.
std::vector<PreferencePair> ShiftedPairs(const RunInputs& in, int round,
                                         LanguageModel& policy,
                                         at::Generator& generator) {
  std::vector<std::string> prompts =
      SamplePrompts(in.task, in.job.eval().shifted_pairs(),
                    in.streams.Seed(Stream::kEvalPrompts, round));
  auto samples =
      SampleResponses(policy, prompts, 2, in.sampling, generator, in.tokenizer);
  Rng labels(in.streams.Seed(Stream::kEvalLabels, round));
  return LabelPairs(in.task, prompts, samples,
                    in.job.task().label_temperature(), labels, in.tokenizer);
}

// KL(π || π_ref) estimated on the policy's own samples:
// mean over prompts of Σ_t (log π − log π_ref).
double KlToReference(const RunInputs& in, int round, RlhfModels& models,
                     const std::vector<std::string>& prompts) {
  at::Generator generator = at::detail::createCPUGenerator(
      in.streams.Seed(Stream::kEvalSamples, round, 1));
  Experience batch =
      BuildExperience({&models.policy, &models.reference, &models.reward_model},
                      prompts, in.sampling, generator, in.tokenizer);
  return ((batch.old_logprobs - batch.ref_logprobs) * batch.response_mask)
      .sum(1)
      .mean()
      .item<double>();
}

}  // namespace

absl::Status EvaluateSft(const RunInputs& in, LanguageModel& reference,
                         RunOutput& output) {
  std::vector<std::string> prompts = HeldOutPrompts(in);
  at::Generator generator =
      at::detail::createCPUGenerator(in.streams.Seed(Stream::kEvalSamples, 0));
  auto samples = SampleResponses(reference, prompts, 1, in.sampling, generator,
                                 in.tokenizer);
  double gold = 0;
  std::vector<double> gold_per_prompt;
  for (size_t i = 0; i < prompts.size(); ++i) {
    gold_per_prompt.push_back(in.task.GoldReward(prompts[i], samples[i][0]));
    gold += gold_per_prompt.back();
  }
  METARM_RETURN_IF_ERROR(
      WriteEvalSamples(0, prompts, samples, gold_per_prompt, {}, *output.log));
  const double mean = gold / prompts.size();
  std::cout << absl::StrFormat("round 0: SFT policy gold %.3f\n", mean)
            << std::flush;
  return output.log->Append(kRoundsLog, {{"round", 0},
                                         {"gold_reward_mean", mean},
                                         {"win", 0.0},
                                         {"tie", 1.0},
                                         {"lose", 0.0}});
}

absl::Status EvaluateRound(const RunInputs& in, int round, RlhfModels& models,
                           const std::vector<PreferencePair>& held_out,
                           RunOutput& output) {
  std::vector<std::string> prompts = HeldOutPrompts(in);
  at::Generator generator = at::detail::createCPUGenerator(
      in.streams.Seed(Stream::kEvalSamples, round));
  const int k =
      static_cast<int>(in.job.reward_training().responses_per_prompt());
  auto policy_samples = SampleResponses(models.policy, prompts, k, in.sampling,
                                        generator, in.tokenizer);
  auto sft_samples = SampleResponses(models.reference, prompts, 1, in.sampling,
                                     generator, in.tokenizer);
  const GoldComparison gold =
      CompareByGold(in, prompts, policy_samples, sft_samples);
  torch::Tensor scores =
      ScoreResponseSets(models.reward_model,
                        MakeResponseSets(prompts, policy_samples, in.tokenizer),
                        in.limits, in.tokenizer);
  const RewardGapStats gaps = ComputeRewardGaps(scores);
  const std::vector<PreferencePair> shifted =
      ShiftedPairs(in, round, models.policy, generator);
  nlohmann::json line = {
      {"round", round},
      {"gold_reward_mean", gold.mean},
      {"proxy_reward_mean", scores.select(1, 0).mean().item<double>()},
      {"win", gold.win},
      {"tie", gold.tie},
      {"lose", gold.lose},
      {"rm_acc_original", EvaluateAccuracy(models.reward_model, held_out,
                                           in.limits, in.tokenizer)},
      {"rm_acc_shifted",
       EvaluateAccuracy(models.reward_model, shifted, in.limits, in.tokenizer)},
      {"reward_gap_mean", gaps.normalized.mean},
      {"reward_gap_raw_mean", gaps.raw.mean},
      {"reward_gaps", RewardGapStatsToJson(gaps)},
      {"seconds", SecondsSince(output.start)}};
  line["kl_to_reference"] = KlToReference(in, round, models, prompts);
  std::cout << absl::StrFormat(
                   "round %d: gold %.3f, proxy %.3f, win/tie/lose vs SFT "
                   "%.2f/%.2f/%.2f, RM accuracy original %.3f shifted %.3f "
                   "(%.0f s)\n",
                   round, gold.mean, line["proxy_reward_mean"].get<double>(),
                   gold.win, gold.tie, gold.lose,
                   line["rm_acc_original"].get<double>(),
                   line["rm_acc_shifted"].get<double>(),
                   SecondsSince(output.start))
            << std::flush;
  METARM_RETURN_IF_ERROR(WriteEvalSamples(round, prompts, policy_samples,
                                          gold.per_prompt, scores.select(1, 0),
                                          *output.log));
  return output.log->Append(kRoundsLog, line);
}

}  // namespace metarm
