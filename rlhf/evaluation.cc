#include "rlhf/evaluation.h"

#include <algorithm>
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

using Samples = std::vector<std::vector<std::string>>;  // [prompt][sample]
using Scores = std::vector<std::vector<double>>;        // [prompt][sample]

std::vector<std::string> HeldOutPrompts(const RunInputs& in) {
  return in.data.HeldOutPrompts(in.job.eval().num_prompts(),
                                in.streams.Seed(Stream::kEvalPrompts));
}

int ResponsesPerPrompt(const RunInputs& in) {
  return static_cast<int>(in.job.reward_training().responses_per_prompt());
}

// The SFT policy's (the reference's) k responses to each evaluation prompt,
// from one stream for every round and every arm (util/random_streams.h), so
// that each round's policy (and every job with the same seed and SFT) is
// compared against the same SFT samples.
absl::StatusOr<Samples> SftSamples(const RunInputs& in, RlhfModels& models,
                                   const std::vector<std::string>& prompts) {
  return SampleResponses(
      models.reference, prompts, ResponsesPerPrompt(in), in.generation,
      in.streams.Seed(Stream::kEvalSftSamples), in.tokenizer);
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

// One line of eval_samples.jsonl: every judged sample, [prompt][sample]:
// "responses" (text; bytes that are not UTF-8 are replaced in the file),
// "response_ids" (the exact tokens), "judge_reward" (with a judge; the gold
// reward on the testbed), "proxy_reward" (from round 1), and from round 1
// with a judge the SFT policy's "sft_responses", "sft_response_ids" and
// "sft_judge_reward", so that every judged number of rounds.jsonl can be
// recomputed.
nlohmann::json SamplesLine(
    int round, const std::vector<std::string>& prompts, const Samples& policy,
    const Scores* judged, const Scores* proxy,
    const std::vector<std::vector<TokenSequence>>& tokens) {
  nlohmann::json line = {{"round", round}, {"prompts", prompts}};
  line["responses"] = policy;
  line["response_ids"] = tokens;
  if (judged != nullptr) line["judge_reward"] = *judged;
  if (proxy != nullptr) line["proxy_reward"] = *proxy;
  return line;
}

// How often the judge scores a pair's chosen response above its rejected
// one, a tie counting half, over pairs of distinct responses. For the
// testbed's gold reward (whose texts decode exactly) on its own Bradley-Terry
// labels, this is about the most any reward model can reach on them: the
// accuracy's ceiling.
double JudgeAccuracy(Judge& judge, const std::vector<PreferencePair>& pairs,
                     const Tokenizer& tokenizer) {
  if (pairs.empty()) return 0.0;
  std::vector<std::string> prompts;
  Samples responses;
  for (const PreferencePair& pair : pairs) {
    prompts.push_back(tokenizer.Decode(pair.prompt));
    responses.push_back(
        {tokenizer.Decode(pair.chosen), tokenizer.Decode(pair.rejected)});
  }
  const Scores scores = judge.Score(prompts, responses);
  double correct = 0;
  for (const auto& row : scores) {
    correct += row[0] > row[1] ? 1.0 : row[0] == row[1] ? 0.5 : 0.0;
  }
  return correct / static_cast<double>(pairs.size());
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
  absl::StrAppendFormat(&text, ", SFT %s %.3f, KL %.3f, length %.1f", name,
                        line["sft_judge_reward_mean"].get<double>(),
                        line["kl_to_reference"].get<double>(),
                        line["response_length_mean"].get<double>());
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
  METARM_ASSIGN_OR_RETURN(Samples samples, SftSamples(in, models, prompts));
  const auto tokens = ResponseTokens(samples, in.tokenizer);
  std::optional<Scores> judged;
  if (models.judge != nullptr) judged = models.judge->Score(prompts, samples);
  METARM_RETURN_IF_ERROR(output.log->Append(
      kEvalSamplesLog,
      SamplesLine(0, prompts, samples, judged ? &*judged : nullptr, nullptr,
                  tokens)));
  nlohmann::json line = {{"round", 0}};
  if (judged.has_value()) {
    const std::string judge = models.judge->name();
    line[judge + "_reward_mean"] = Mean(*judged);
    line["sft_judge_reward_mean"] = Mean(*judged);
    line["win"] = 0.0;
    line["tie"] = 1.0;
    line["lose"] = 0.0;
    std::cout << absl::StrFormat("round 0: SFT policy %s %.3f\n", judge,
                                 Mean(*judged))
              << std::flush;
  } else {
    SayNoJudge();
  }
  line["response_length_mean"] = MeanLength(tokens);
  if (in.data.gold() == nullptr) line["data"] = in.data.Summary();
  return output.log->Append(kRoundsLog, line);
}

// The proxy's accuracy on the original held-out pairs and on fresh
// judge-labelled pairs of the policy's samples, each over its pairs of
// distinct responses (counted in *_pairs). On the testbed the gold reward's
// own accuracy on the same pairs is beside them (gold_acc_*: the ceiling
// label noise leaves). Shifted pairs need a judge.
absl::Status AddAccuracies(const RunInputs& in, int round, RlhfModels& models,
                           const std::vector<PreferencePair>& held_out,
                           nlohmann::json& line) {
  const std::vector<PreferencePair> original = DistinctPairs(held_out);
  const bool testbed = in.data.gold() != nullptr;
  line["rm_acc_original"] =
      EvaluateAccuracy(models.reward_model, original, in.limits, in.tokenizer);
  line["rm_acc_original_pairs"] = original.size();
  if (models.judge == nullptr) return absl::OkStatus();
  if (testbed) {
    line["gold_acc_original"] =
        JudgeAccuracy(*models.judge, original, in.tokenizer);
  }
  METARM_ASSIGN_OR_RETURN(const std::vector<PreferencePair> all_shifted,
                          ShiftedPairs(in, round, models.policy, *models.judge),
                          "round ", round);
  const std::vector<PreferencePair> shifted = DistinctPairs(all_shifted);
  if (!shifted.empty()) {
    line["rm_acc_shifted"] =
        EvaluateAccuracy(models.reward_model, shifted, in.limits, in.tokenizer);
    if (testbed) {
      line["gold_acc_shifted"] =
          JudgeAccuracy(*models.judge, shifted, in.tokenizer);
    }
  }
  line["shifted_pairs"] = shifted.size();
  return absl::OkStatus();
}

// The best-of-n pre-test (eval.best_of_n = n): n candidates of the SFT
// policy per evaluation prompt, from a stream every round and arm of a seed
// shares; the round's reward model picks its highest-scored candidate and
// the judge scores the picks. Arms of a seed differ only in their reward
// models' picks among the same candidates, so the comparison is free of
// PPO's noise. eval_samples.jsonl gets the candidates' tokens, the proxy's
// scores of them, the picks' indices and the picks' judge scores.
absl::Status AddBestOfN(const RunInputs& in, RlhfModels& models,
                        const std::vector<std::string>& prompts,
                        nlohmann::json& line, nlohmann::json& samples_line) {
  const int n = static_cast<int>(in.job.eval().best_of_n());
  if (n == 0 || models.judge == nullptr) return absl::OkStatus();
  METARM_ASSIGN_OR_RETURN(
      const Samples candidates,
      SampleResponses(models.reference, prompts, n, in.generation,
                      in.streams.Seed(Stream::kBestOfNSamples), in.tokenizer),
      "sampling the best-of-n candidates");
  const Scores proxy = TensorToScores(ScoreResponseSets(
      models.reward_model, MakeResponseSets(prompts, candidates, in.tokenizer),
      in.limits, in.tokenizer));
  Samples picks(prompts.size());
  Scores picked_proxy(prompts.size());
  std::vector<int64_t> picked;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto best = std::max_element(proxy[i].begin(), proxy[i].end());
    picked.push_back(best - proxy[i].begin());
    picks[i].push_back(candidates[i][picked.back()]);
    picked_proxy[i].push_back(*best);
  }
  const Scores judged = models.judge->Score(prompts, picks);
  line["bon_n"] = n;
  line["bon_" + models.judge->name() + "_mean"] = Mean(judged);
  line["bon_proxy_mean"] = Mean(picked_proxy);
  samples_line["bon_candidate_ids"] = ResponseTokens(candidates, in.tokenizer);
  samples_line["bon_proxy_reward"] = proxy;
  samples_line["bon_picked"] = picked;
  samples_line["bon_judge_reward"] = judged;
  return absl::OkStatus();
}

absl::Status EvaluateRound(const RunInputs& in, int round, RlhfModels& models,
                           const std::vector<PreferencePair>& held_out,
                           RunOutput& output) {
  std::vector<std::string> prompts = HeldOutPrompts(in);
  METARM_ASSIGN_OR_RETURN(
      const Samples policy_samples,
      SampleResponses(
          models.policy, prompts, ResponsesPerPrompt(in), in.generation,
          in.streams.Seed(Stream::kEvalSamples, round), in.tokenizer),
      "round ", round, ": sampling the evaluation");
  METARM_ASSIGN_OR_RETURN(const Samples sft_samples,
                          SftSamples(in, models, prompts));
  torch::Tensor scores =
      ScoreResponseSets(models.reward_model,
                        MakeResponseSets(prompts, policy_samples, in.tokenizer),
                        in.limits, in.tokenizer);
  const Scores proxy = TensorToScores(scores);
  const RewardGapStats gaps = ComputeRewardGaps(scores);
  const auto tokens = ResponseTokens(policy_samples, in.tokenizer);
  nlohmann::json line = {{"round", round}};
  std::optional<Scores> judged, sft_judged;
  if (models.judge != nullptr) {
    judged = models.judge->Score(prompts, policy_samples);
    sft_judged = models.judge->Score(prompts, sft_samples);
    const Comparison versus_sft =
        Compare(*judged, *sft_judged, in.job.eval().tie_band());
    line[models.judge->name() + "_reward_mean"] = Mean(*judged);
    line["sft_judge_reward_mean"] = Mean(*sft_judged);
    line["win"] = versus_sft.win;
    line["tie"] = versus_sft.tie;
    line["lose"] = versus_sft.lose;
  }
  line["proxy_reward_mean"] = Mean(proxy);
  METARM_RETURN_IF_ERROR(AddAccuracies(in, round, models, held_out, line));
  nlohmann::json best_of_n_samples = nlohmann::json::object();
  METARM_RETURN_IF_ERROR(
      AddBestOfN(in, models, prompts, line, best_of_n_samples));
  line["reward_gap_mean"] = gaps.normalized.mean;
  line["reward_gap_raw_mean"] = gaps.raw.mean;
  line["reward_gaps"] = RewardGapStatsToJson(gaps);
  METARM_ASSIGN_OR_RETURN(line["kl_to_reference"],
                          KlToReference(in, round, models, prompts));
  line["response_length_mean"] = MeanLength(tokens);
  line["seconds"] = SecondsSince(output.start);
  std::cout << RoundSummary(line, models.judge.get()) << std::flush;
  nlohmann::json samples_line =
      SamplesLine(round, prompts, policy_samples, judged ? &*judged : nullptr,
                  &proxy, tokens);
  if (sft_judged.has_value()) {
    samples_line["sft_responses"] = sft_samples;
    samples_line["sft_response_ids"] =
        ResponseTokens(sft_samples, in.tokenizer);
    samples_line["sft_judge_reward"] = *sft_judged;
  }
  samples_line.update(best_of_n_samples);
  METARM_RETURN_IF_ERROR(output.log->Append(kEvalSamplesLog, samples_line));
  return output.log->Append(kRoundsLog, line);
}

}  // namespace metarm
