#include "rollout/preference_generator.h"

#include <algorithm>
#include <cmath>

namespace metarm {
namespace {

// The response's tokens up to (not including) its end token.
std::string DecodeResponse(const torch::Tensor& row, const torch::Tensor& mask,
                           const SamplingOptions& options,
                           const Tokenizer& tokenizer) {
  TokenSequence tokens;
  for (int64_t t = 0; t < row.size(0); ++t) {
    if (mask[t].item<int64_t>() == 0) break;
    const int64_t token = row[t].item<int64_t>();
    if (options.Ends(token)) break;
    tokens.push_back(token);
  }
  return tokenizer.Decode(tokens);
}

}  // namespace

std::vector<std::vector<std::string>> SampleResponses(
    LanguageModel& policy, const std::vector<std::string>& prompts, int k,
    const SamplingOptions& options, at::Generator& generator,
    const Tokenizer& tokenizer, int64_t batch_size) {
  std::vector<std::vector<std::string>> responses(prompts.size());
  const int64_t total = static_cast<int64_t>(prompts.size());
  for (int64_t begin = 0; begin < total; begin += batch_size) {
    const int64_t end = std::min(total, begin + batch_size);
    // Each prompt k times, prompt-major.
    std::vector<TokenSequence> rows;
    for (int64_t i = begin; i < end; ++i) {
      TokenSequence row{tokenizer.bos_id()};
      TokenSequence prompt = tokenizer.Encode(prompts[i]);
      row.insert(row.end(), prompt.begin(), prompt.end());
      for (int j = 0; j < k; ++j) rows.push_back(row);
    }
    Generation out = Generate(policy, PadSequences(rows, Padding::kLeft),
                              options, generator);
    // Decoded from host copies: one transfer, not one per token.
    const TokenBatch sampled = out.responses.To(torch::kCPU);
    for (int64_t r = 0; r < static_cast<int64_t>(rows.size()); ++r) {
      responses[begin + r / k].push_back(DecodeResponse(
          sampled.tokens[r], sampled.mask[r], options, tokenizer));
    }
  }
  return responses;
}

std::vector<PreferencePair> LabelPairs(
    const Task& task, const std::vector<std::string>& prompts,
    const std::vector<std::vector<std::string>>& responses, double temperature,
    Rng& rng, const Tokenizer& tokenizer) {
  std::vector<PreferencePair> pairs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::string& a = responses[i][0];
    const std::string& b = responses[i][1];
    if (a.empty() || b.empty()) continue;  // the readers refuse empty responses
    const double gap =
        task.GoldReward(prompts[i], a) - task.GoldReward(prompts[i], b);
    const double p_first = 1.0 / (1.0 + std::exp(-gap / temperature));
    const bool first = rng.Uniform() < p_first;
    pairs.push_back({tokenizer.Encode(prompts[i]),
                     tokenizer.Encode(first ? a : b),
                     tokenizer.Encode(first ? b : a)});
  }
  return pairs;
}

std::vector<ResponseSet> MakeResponseSets(
    const std::vector<std::string>& prompts,
    const std::vector<std::vector<std::string>>& responses,
    const Tokenizer& tokenizer) {
  std::vector<ResponseSet> sets;
  for (size_t i = 0; i < prompts.size(); ++i) {
    ResponseSet set{tokenizer.Encode(prompts[i]), {}};
    for (const std::string& response : responses[i]) {
      // An empty sample (the end token first) stays a one-token response so
      // every set keeps k responses.
      set.responses.push_back(response.empty()
                                  ? TokenSequence{tokenizer.eos_id()}
                                  : tokenizer.Encode(response));
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

std::vector<std::string> SamplePrompts(const Task& task, int64_t n,
                                       uint64_t seed) {
  Rng rng(seed);
  std::vector<std::string> prompts;
  for (int64_t i = 0; i < n; ++i) prompts.push_back(task.SamplePrompt(rng));
  return prompts;
}

}  // namespace metarm
