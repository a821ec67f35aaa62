#include "rlhf/evaluation.h"

#include <cmath>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
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

// Positions inside the kEvalSamples stream of a round (0: the policy's
// evaluation samples).
constexpr uint64_t kKlSamples = 1;
constexpr uint64_t kShiftedPairSamples = 2;
constexpr uint64_t kSftSamples = 3;

using Samples = std::vector<std::vector<std::string>>;  // [prompt][sample]
using Scores = std::vector<std::vector<double>>;        // [prompt][sample]

std::vector<std::string> HeldOutPrompts(const RunInputs& in) {
  return in.data.HeldOutPrompts(in.job.eval().num_prompts(),
                                in.streams.Seed(Stream::kEvalPrompts));
}

int ResponsesPerPrompt(const RunInputs& in) {
  return static_cast<int>(in.job.reward_training().responses_per_prompt());
}

// m: the samples per prompt that are judged (the header's rule).
int JudgedPerPrompt(const RunInputs& in) {
  return in.data.gold() != nullptr ? 1 : ResponsesPerPrompt(in);
}

// The SFT policy's (the reference's) m responses to each evaluation prompt,
// from one stream for every round, so that each round's policy (and every
// job with the same seed and SFT) is compared against the same SFT samples.
absl::StatusOr<Samples> SftSamples(const RunInputs& in, RlhfModels& models,
                                   const std::vector<std::string>& prompts,
                                   int m) {
  return SampleResponses(models.reference, prompts, m, in.generation,
                         in.streams.Seed(Stream::kEvalSamples, 0, kSftSamples),
                         in.tokenizer);
}

// The first m of each prompt's samples (or scores).
template <typename T>
std::vector<std::vector<T>> FirstSamples(
    const std::vector<std::vector<T>>& samples, int m) {
  std::vector<std::vector<T>> first;
  for (const auto& set : samples) {
    first.emplace_back(set.begin(), set.begin() + m);
  }
  return first;
}

double Mean(const Scores& scores) {
  double sum = 0;
  int64_t n = 0;
  for (const auto& row : scores) {
    for (double x : row) sum += x, ++n;
  }
  return n > 0 ? sum / n : 0;
}

Scores TensorToScores(const torch::Tensor& scores) {
  torch::Tensor values = scores.to(torch::kCPU, torch::kFloat64).contiguous();
  auto v = values.accessor<double, 2>();
  Scores out(values.size(0));
  for (int64_t i = 0; i < values.size(0); ++i) {
    for (int64_t j = 0; j < values.size(1); ++j) out[i].push_back(v[i][j]);
  }
  return out;
}

// Each response as the job's tokenizer encodes its text: what the proxy
// (and a judge sharing the tokenizer) reads, the end token not included.
std::vector<std::vector<TokenSequence>> ResponseTokens(
    const Samples& samples, const Tokenizer& tokenizer) {
  std::vector<std::vector<TokenSequence>> tokens(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    for (const std::string& response : samples[i]) {
      tokens[i].push_back(tokenizer.Encode(response));
    }
  }
  return tokens;
}

double MeanLength(const std::vector<std::vector<TokenSequence>>& tokens) {
  Scores lengths(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    for (const TokenSequence& t : tokens[i]) {
      lengths[i].push_back(static_cast<double>(t.size()));
    }
  }
  return Mean(lengths);
}

// Win / tie / lose of sample j of the policy against sample j of the SFT
// policy by the judge, over every prompt and every j (a tie within
// eval.tie_band).
struct Comparison {
  double win = 0, tie = 0, lose = 0;
};

Comparison Compare(const Scores& policy, const Scores& sft, double tie_band) {
  int64_t win = 0, tie = 0, lose = 0;
  for (size_t i = 0; i < policy.size(); ++i) {
    for (size_t j = 0; j < policy[i].size(); ++j) {
      const double mine = policy[i][j], theirs = sft[i][j];
      if (std::abs(mine - theirs) <= tie_band) {
        ++tie;
      } else {
        (mine > theirs ? win : lose) += 1;
      }
    }
  }
  const double n = static_cast<double>(win + tie + lose);
  return {win / n, tie / n, lose / n};
}

// One line of eval_samples.jsonl. The testbed keeps its first-sample form
// ("responses", "gold_reward": one per prompt; "proxy_reward" from round 1).
// File runs write every judged sample, [prompt][sample]: "responses" (text;
// bytes that are not UTF-8 are replaced in the file), "response_ids" (the
// exact tokens), "judge_reward" (with a judge), "proxy_reward" (from round
// 1), and the SFT policy's "sft_responses", "sft_response_ids" and
// "sft_judge_reward", so that every judged number of rounds.jsonl can be
// recomputed.
nlohmann::json SamplesLine(
    int round, const std::vector<std::string>& prompts, const Samples& policy,
    const Scores* judged, const Scores* proxy,
    const std::vector<std::vector<TokenSequence>>& tokens, bool testbed) {
  nlohmann::json line = {{"round", round}, {"prompts", prompts}};
  if (testbed) {
    std::vector<std::string> responses;
    std::vector<double> gold, first_proxy;
    for (size_t i = 0; i < prompts.size(); ++i) {
      responses.push_back(policy[i][0]);
      gold.push_back((*judged)[i][0]);
      if (proxy != nullptr) first_proxy.push_back((*proxy)[i][0]);
    }
    line["responses"] = responses;
    line["gold_reward"] = gold;
    if (proxy != nullptr) line["proxy_reward"] = first_proxy;
    return line;
  }
  line["responses"] = policy;
  line["response_ids"] = tokens;
  if (judged != nullptr) line["judge_reward"] = *judged;
  if (proxy != nullptr) line["proxy_reward"] = *proxy;
  return line;
}

// Fresh pairs of the current policy's samples, labelled by the judge: the
// shifted distribution. The testbed's gold labels are Bradley-Terry draws
// at task.label_temperature (as its training pairs are); a judge model's
// label is its higher score, and pairs it scores equal are left out.
absl::StatusOr<std::vector<PreferencePair>> ShiftedPairs(const RunInputs& in,
                                                         int round,
                                                         LanguageModel& policy,
                                                         Judge& judge) {
  std::vector<std::string> prompts =
      in.data.HeldOutPrompts(in.job.eval().shifted_pairs(),
                             in.streams.Seed(Stream::kEvalPrompts, round));
  METARM_ASSIGN_OR_RETURN(
      Samples samples,
      SampleResponses(
          policy, prompts, 2, in.generation,
          in.streams.Seed(Stream::kEvalSamples, round, kShiftedPairSamples),
          in.tokenizer),
      "sampling the shifted pairs");
  if (const Task* gold = in.data.gold()) {
    Rng labels(in.streams.Seed(Stream::kEvalLabels, round));
    return LabelPairs(*gold, prompts, samples,
                      in.job.task().label_temperature(), labels, in.tokenizer);
  }
  const Scores scores = judge.Score(prompts, samples);
  std::vector<PreferencePair> pairs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (scores[i][0] == scores[i][1]) continue;
    const bool first = scores[i][0] > scores[i][1];
    pairs.push_back({in.tokenizer.Encode(prompts[i]),
                     in.tokenizer.Encode(samples[i][first ? 0 : 1]),
                     in.tokenizer.Encode(samples[i][first ? 1 : 0])});
  }
  return pairs;
}

// KL(π || π_ref) estimated on the policy's own samples:
// mean over prompts of Σ_t (log π − log π_ref).
absl::StatusOr<double> KlToReference(const RunInputs& in, int round,
                                     RlhfModels& models,
                                     const std::vector<std::string>& prompts) {
  const SampleStreams streams{
      in.streams.Seed(Stream::kEvalSamples, round, kKlSamples), 0};
  METARM_ASSIGN_OR_RETURN(
      Experience batch,
      BuildExperience({&models.policy, &models.reference, &models.reward_model},
                      prompts, in.generation, streams, in.tokenizer),
      "sampling for the KL to the reference");
  return ((batch.old_logprobs - batch.ref_logprobs) * batch.response_mask)
      .sum(1)
      .mean()
      .item<double>();
}

// The round's line on the terminal.
std::string RoundSummary(const nlohmann::json& line, const Judge* judge) {
  const int round = line["round"].get<int>();
  const double seconds = line["seconds"].get<double>();
  const double proxy = line["proxy_reward_mean"].get<double>();
  const double original = line["rm_acc_original"].get<double>();
  if (judge == nullptr) {
    return absl::StrFormat(
        "round %d: proxy %.3f, RM accuracy original %.3f, KL %.3f, length "
        "%.1f (no judge) (%.0f s)\n",
        round, proxy, original, line["kl_to_reference"].get<double>(),
        line["response_length_mean"].get<double>(), seconds);
  }
  const std::string name = judge->name();
  const double shifted = line.value("rm_acc_shifted", std::nan(""));
  std::string text = absl::StrFormat(
      "round %d: %s %.3f, proxy %.3f, win/tie/lose vs SFT %.2f/%.2f/%.2f, RM "
      "accuracy original %.3f shifted %.3f",
      round, name, line[name + "_reward_mean"].get<double>(), proxy,
      line["win"].get<double>(), line["tie"].get<double>(),
      line["lose"].get<double>(), original, shifted);
  if (line.contains("response_length_mean")) {
    absl::StrAppendFormat(&text, ", SFT %s %.3f, KL %.3f, length %.1f", name,
                          line["sft_judge_reward_mean"].get<double>(),
                          line["kl_to_reference"].get<double>(),
                          line["response_length_mean"].get<double>());
  }
  return absl::StrCat(text, absl::StrFormat(" (%.0f s)\n", seconds));
}

// Said once, at round 0, on file runs without eval.judge.
void SayNoJudge() {
  std::cout << "metarm: no eval.judge: the judged metrics (judge reward, "
               "win/tie/lose against SFT, accuracy on shifted pairs) are not "
               "measured; rounds.jsonl holds the proxy-side ones\n"
            << std::flush;
}

}  // namespace

absl::Status EvaluateSft(const RunInputs& in, RlhfModels& models,
                         RunOutput& output) {
  std::vector<std::string> prompts = HeldOutPrompts(in);
  const int m = JudgedPerPrompt(in);
  const bool testbed = in.data.gold() != nullptr;
  METARM_ASSIGN_OR_RETURN(Samples samples, SftSamples(in, models, prompts, m));
  const auto tokens = ResponseTokens(samples, in.tokenizer);
  std::optional<Scores> judged;
  if (models.judge != nullptr) judged = models.judge->Score(prompts, samples);
  METARM_RETURN_IF_ERROR(output.log->Append(
      kEvalSamplesLog,
      SamplesLine(0, prompts, samples, judged ? &*judged : nullptr, nullptr,
                  tokens, testbed)));
  nlohmann::json line = {{"round", 0}};
  if (judged.has_value()) {
    const std::string judge = models.judge->name();
    line[judge + "_reward_mean"] = Mean(*judged);
    if (!testbed) line["sft_judge_reward_mean"] = Mean(*judged);
    line["win"] = 0.0;
    line["tie"] = 1.0;
    line["lose"] = 0.0;
    std::cout << absl::StrFormat("round 0: SFT policy %s %.3f\n", judge,
                                 Mean(*judged))
              << std::flush;
  } else {
    SayNoJudge();
  }
  if (!testbed) {
    line["response_length_mean"] = MeanLength(tokens);
    line["data"] = in.data.Summary();
  }
  return output.log->Append(kRoundsLog, line);
}

absl::Status EvaluateRound(const RunInputs& in, int round, RlhfModels& models,
                           const std::vector<PreferencePair>& held_out,
                           RunOutput& output) {
  std::vector<std::string> prompts = HeldOutPrompts(in);
  const int m = JudgedPerPrompt(in);
  const bool testbed = in.data.gold() != nullptr;
  METARM_ASSIGN_OR_RETURN(
      const Samples policy_samples,
      SampleResponses(
          models.policy, prompts, ResponsesPerPrompt(in), in.generation,
          in.streams.Seed(Stream::kEvalSamples, round), in.tokenizer),
      "round ", round, ": sampling the evaluation");
  METARM_ASSIGN_OR_RETURN(const Samples sft_samples,
                          SftSamples(in, models, prompts, m));
  const Samples judged_samples = FirstSamples(policy_samples, m);
  torch::Tensor scores =
      ScoreResponseSets(models.reward_model,
                        MakeResponseSets(prompts, policy_samples, in.tokenizer),
                        in.limits, in.tokenizer);
  const Scores proxy = FirstSamples(TensorToScores(scores), m);
  const RewardGapStats gaps = ComputeRewardGaps(scores);
  const auto tokens = ResponseTokens(judged_samples, in.tokenizer);
  nlohmann::json line = {{"round", round}};
  std::optional<Scores> judged, sft_judged;
  Comparison versus_sft;
  if (models.judge != nullptr) {
    judged = models.judge->Score(prompts, judged_samples);
    sft_judged = models.judge->Score(prompts, sft_samples);
    versus_sft = Compare(*judged, *sft_judged, in.job.eval().tie_band());
    line[models.judge->name() + "_reward_mean"] = Mean(*judged);
    if (!testbed) line["sft_judge_reward_mean"] = Mean(*sft_judged);
  }
  line["proxy_reward_mean"] = Mean(proxy);
  if (judged.has_value()) {
    line["win"] = versus_sft.win;
    line["tie"] = versus_sft.tie;
    line["lose"] = versus_sft.lose;
  }
  line["rm_acc_original"] =
      EvaluateAccuracy(models.reward_model, held_out, in.limits, in.tokenizer);
  if (models.judge != nullptr) {
    METARM_ASSIGN_OR_RETURN(
        const std::vector<PreferencePair> shifted,
        ShiftedPairs(in, round, models.policy, *models.judge), "round ", round);
    if (!shifted.empty()) {
      line["rm_acc_shifted"] = EvaluateAccuracy(models.reward_model, shifted,
                                                in.limits, in.tokenizer);
    }
    line["shifted_pairs"] = shifted.size();
  }
  line["reward_gap_mean"] = gaps.normalized.mean;
  line["reward_gap_raw_mean"] = gaps.raw.mean;
  line["reward_gaps"] = RewardGapStatsToJson(gaps);
  METARM_ASSIGN_OR_RETURN(line["kl_to_reference"],
                          KlToReference(in, round, models, prompts));
  if (!testbed) line["response_length_mean"] = MeanLength(tokens);
  line["seconds"] = SecondsSince(output.start);
  std::cout << RoundSummary(line, models.judge.get()) << std::flush;
  nlohmann::json samples_line =
      SamplesLine(round, prompts, judged_samples, judged ? &*judged : nullptr,
                  &proxy, tokens, testbed);
  if (!testbed && sft_judged.has_value()) {
    samples_line["sft_responses"] = sft_samples;
    samples_line["sft_response_ids"] =
        ResponseTokens(sft_samples, in.tokenizer);
    samples_line["sft_judge_reward"] = *sft_judged;
  }
  METARM_RETURN_IF_ERROR(output.log->Append(kEvalSamplesLog, samples_line));
  return output.log->Append(kRoundsLog, line);
}

}  // namespace metarm
