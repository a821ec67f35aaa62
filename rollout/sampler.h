// Batched sampling from a language model with the KV cache: temperature,
// nucleus (top-p), a token budget and an end token. Deterministic given the
// generator's seed.
//
//   at::Generator generator = at::detail::createCPUGenerator(seed);
//   SamplingOptions options{.temperature = 0.8, .top_p = 0.9,
//                           .max_new_tokens = 32, .eos_id = 2, .pad_id = 0};
//   Generation out = Generate(policy, prompts, options, generator);
//
// Prompts are left-padded (model/token_batch.h) so that every row's next
// token goes in the same column; a row stops at its end token, after which it
// holds padding.
#ifndef METARM_ROLLOUT_SAMPLER_H_
#define METARM_ROLLOUT_SAMPLER_H_

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include "model/token_batch.h"
#include "model/transformer.h"

namespace metarm {

struct SamplingOptions {
  double temperature = 1.0;  // > 0
  double top_p = 1.0;        // in (0, 1]
  int64_t max_new_tokens = 32;
  int64_t eos_id = 2;
  int64_t pad_id = 0;
  // More tokens that end a row as eos_id does (a chat template's end of turn
  // is eos_id, and the tokenizer's own end token is one of these).
  std::vector<int64_t> stop_ids;
  // True for eos_id and every stop id.
  bool Ends(int64_t token) const;
};

struct Generation {
  // Prompt + response, [B, P + N], with its mask (padding 0).
  TokenBatch sequences;
  // The generated part alone, [B, N]; mask 1 through the end token.
  TokenBatch responses;
  // log π(token) of every generated token under the sampling distribution
  // (temperature applied, before top-p truncation), [B, N]; 0 at padding.
  torch::Tensor logprobs;
};

// Samples up to max_new_tokens per row (fewer when every row has ended).
// Runs without gradients.
Generation Generate(LanguageModel& policy, const TokenBatch& prompts,
                    const SamplingOptions& options, at::Generator& generator);

// Keeps the smallest set of most likely tokens whose probability reaches
// top_p (at least one token) and renormalises. probs: [B, V].
torch::Tensor TopPFilter(const torch::Tensor& probs, double top_p);

}  // namespace metarm

#endif  // METARM_ROLLOUT_SAMPLER_H_
