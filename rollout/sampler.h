// The static batch sampler: every row of a left-padded batch decodes in
// lockstep with the KV cache until the last row ends. It is the reference the
// generation engine (rollout/generation_engine.h), which the trainer samples
// with, is tested and benchmarked against.
//
//   std::vector<at::Generator> streams = SequenceStreams(seed, 0, B);
//   SamplingOptions options{.temperature = 0.8, .top_p = 0.9,
//                           .max_new_tokens = 32, .eos_id = 2, .pad_id = 0};
//   Generation out = Generate(policy, prompts, options, streams);
//
// Prompts are left-padded (model/token_batch.h) so that every row's next
// token goes in the same column; a row stops at its end token, after which it
// holds padding. Row b draws from streams[b] (rollout/next_token.h).
#ifndef METARM_ROLLOUT_SAMPLER_H_
#define METARM_ROLLOUT_SAMPLER_H_

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <vector>

#include "model/token_batch.h"
#include "model/transformer.h"
#include "rollout/next_token.h"

namespace metarm {

struct Generation {
  // Prompt + response, [B, P + N], with its mask (padding 0).
  TokenBatch sequences;
  // The generated part alone, [B, N]; mask 1 through the end token.
  TokenBatch responses;
  // log π(token) of every generated token under the sampling distribution
  // (temperature applied, before top-p truncation), [B, N]; 0 at padding.
  torch::Tensor logprobs;
};

// Samples up to max_new_tokens per row (fewer when every row has ended),
// row b from streams[b] (one stream per row). Runs without gradients.
Generation Generate(LanguageModel& policy, const TokenBatch& prompts,
                    const SamplingOptions& options,
                    std::vector<at::Generator>& streams);

}  // namespace metarm

#endif  // METARM_ROLLOUT_SAMPLER_H_
