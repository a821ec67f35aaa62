#include "rollout/preference_generator.h"

#include <algorithm>
#include <cmath>

namespace metarm {
namespace {

// The response's tokens up to (not including) its end token.
std::string DecodeResponse(const TokenSequence& response,
                           const SamplingOptions& options,
                           const Tokenizer& tokenizer) {
  TokenSequence tokens;
  for (int64_t token : response) {
    if (options.Ends(token)) break;
    tokens.push_back(token);
  }
  return tokenizer.Decode(tokens);
}

}  // namespace

absl::StatusOr<std::vector<std::vector<std::string>>> SampleResponses(
    LanguageModel& policy, const std::vector<std::string>& prompts, int k,
    const GenerationSettings& settings, uint64_t stream_seed,
    const Tokenizer& tokenizer) {
  std::vector<GenerationRequest> requests;
  for (const std::string& prompt : prompts) {
    TokenSequence row{tokenizer.bos_id()};
    TokenSequence encoded = tokenizer.Encode(prompt);
    row.insert(row.end(), encoded.begin(), encoded.end());
    requests.push_back({std::move(row), k});
  }
  GenerationEngine engine(policy, settings.sampling, settings.engine);
  absl::StatusOr<std::vector<SampledSequence>> sampled =
      engine.Run(requests, stream_seed);
  if (!sampled.ok()) return sampled.status();
  std::vector<std::vector<std::string>> responses(prompts.size());
  for (size_t i = 0; i < sampled->size(); ++i) {
    responses[i / k].push_back(
        DecodeResponse((*sampled)[i].response, settings.sampling, tokenizer));
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
