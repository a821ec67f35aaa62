#include "reward/reward_data.h"

#include <algorithm>
#include <numeric>

#include "reward/losses.h"

namespace metarm {
namespace {

TokenSequence Join(const TokenSequence& prompt, const TokenSequence& response,
                   const SequenceLimits& limits, const Tokenizer& tokenizer) {
  return JoinPromptResponse(prompt, response, limits.max_prompt_tokens,
                            limits.max_response_tokens, tokenizer);
}

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> indices(end - begin);
  std::iota(indices.begin(), indices.end(), begin);
  return indices;
}

}  // namespace

PreferenceBatch MakePreferenceBatch(const std::vector<PreferencePair>& pairs,
                                    const std::vector<int64_t>& indices,
                                    const SequenceLimits& limits,
                                    const Tokenizer& tokenizer) {
  std::vector<TokenSequence> chosen, rejected;
  for (int64_t i : indices) {
    chosen.push_back(Join(pairs[i].prompt, pairs[i].chosen, limits, tokenizer));
    rejected.push_back(
        Join(pairs[i].prompt, pairs[i].rejected, limits, tokenizer));
  }
  return {PadSequences(chosen, Padding::kLeft),
          PadSequences(rejected, Padding::kLeft)};
}

MetaBatch MakeMetaBatch(const std::vector<ResponseSet>& sets,
                        const std::vector<int64_t>& indices,
                        const SequenceLimits& limits,
                        const Tokenizer& tokenizer) {
  std::vector<TokenSequence> rows;
  int64_t k = 0;
  for (int64_t i : indices) {
    k = static_cast<int64_t>(sets[i].responses.size());
    for (const TokenSequence& response : sets[i].responses) {
      rows.push_back(Join(sets[i].prompt, response, limits, tokenizer));
    }
  }
  return {PadSequences(rows, Padding::kLeft), k};
}

bool SameResponses(const PreferencePair& pair) {
  return pair.chosen == pair.rejected;
}

std::vector<PreferencePair> DistinctPairs(
    const std::vector<PreferencePair>& pairs) {
  std::vector<PreferencePair> distinct;
  for (const PreferencePair& pair : pairs) {
    if (!SameResponses(pair)) distinct.push_back(pair);
  }
  return distinct;
}

double EvaluateAccuracy(ScalarModel& model,
                        const std::vector<PreferencePair>& all_pairs,
                        const SequenceLimits& limits,
                        const Tokenizer& tokenizer, int64_t batch_size) {
  const std::vector<PreferencePair> pairs = DistinctPairs(all_pairs);
  torch::NoGradGuard no_grad;
  ScopedEvalMode scoring(*model);
  const int64_t total = static_cast<int64_t>(pairs.size());
  if (total == 0) return 0.0;
  double correct = 0;
  for (int64_t begin = 0; begin < total; begin += batch_size) {
    const int64_t end = std::min(total, begin + batch_size);
    auto [chosen, rejected] = ScorePairs(
        model,
        MakePreferenceBatch(pairs, Range(begin, end), limits, tokenizer));
    correct += PairwiseAccuracy(chosen, rejected) * (end - begin);
  }
  return correct / total;
}

torch::Tensor ScoreResponseSets(ScalarModel& model,
                                const std::vector<ResponseSet>& sets,
                                const SequenceLimits& limits,
                                const Tokenizer& tokenizer,
                                int64_t batch_size) {
  torch::NoGradGuard no_grad;
  ScopedEvalMode scoring(*model);
  std::vector<torch::Tensor> scores;
  const int64_t total = static_cast<int64_t>(sets.size());
  for (int64_t begin = 0; begin < total; begin += batch_size) {
    const int64_t end = std::min(total, begin + batch_size);
    scores.push_back(ScoreMetaBatch(
        model, MakeMetaBatch(sets, Range(begin, end), limits, tokenizer)));
  }
  return torch::cat(scores);
}

}  // namespace metarm
