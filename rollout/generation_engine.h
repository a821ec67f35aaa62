// The generation engine every policy sample of the trainer comes from
// (rollout workers, the meta set, the original pairs, evaluation):
// continuous batching over a paged KV cache, the k responses to a prompt
// sharing its keys and values.
//
//   GenerationEngine engine(policy, sampling, {.max_sequences = 64});
//   METARM_ASSIGN_OR_RETURN(std::vector<SampledSequence> out,
//                           engine.Run({{prompt_tokens, /*responses=*/4}},
//                                      stream_seed));
//
// - Continuous batching: at most max_sequences sequences decode together; a
//   sequence that ends leaves at once and a waiting prompt takes its place,
//   so no step computes a finished row.
// - Shared prompts: a prompt is prefilled once and its k responses start
//   from its blocks (copied only where a response writes into a shared one).
// - Paged KV cache (rollout/paged_kv_pool.h): pool_blocks blocks of
//   block_tokens tokens; a prompt waits until its blocks are free, and when
//   a growing sequence finds the pool full the most recently admitted
//   prompt gives its blocks back and waits to start again.
// - Same samples whatever the batching: sequence i (counting the requests'
//   responses in order) draws from SequenceStream(stream_seed, i)
//   (rollout/next_token.h) and starts again from the stream's beginning when
//   it is restarted, so its tokens equal the static sampler's
//   (rollout/sampler.h) for the same stream.
#ifndef METARM_ROLLOUT_GENERATION_ENGINE_H_
#define METARM_ROLLOUT_GENERATION_ENGINE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "model/token_batch.h"
#include "model/transformer.h"
#include "rollout/kv_blocks.h"
#include "rollout/next_token.h"
#include "rollout/sampler.h"

namespace metarm {

struct EngineOptions {
  // Sequences decoded together (the slots).
  int64_t max_sequences = 64;
  // Tokens per KV block.
  int64_t block_tokens = 16;
  // Blocks in the pool; 0: enough for max_sequences of the run's longest
  // sequence (nothing ever waits for memory).
  int64_t pool_blocks = 0;
  // Prefill a prompt once for its k responses.
  bool share_prompts = true;
};

struct GenerationRequest {
  TokenSequence prompt;   // with its begin token; not empty
  int64_t responses = 1;  // k
  // At most this many new tokens per response (<= the sampling options'
  // max_new_tokens); 0: the sampling options'.
  int64_t max_new_tokens = 0;
};

struct SampledSequence {
  TokenSequence response;        // through the end token when it ended
  std::vector<double> logprobs;  // log π(token) at the temperature, per token
};

struct EngineStats {
  int64_t decode_steps = 0;
  int64_t prefill_steps = 0;
  int64_t prompt_tokens = 0;    // prefilled (once per prompt when shared)
  int64_t response_tokens = 0;  // sampled and kept
  int64_t computed_rows = 0;    // token positions the model ran, padding in
  int64_t restarts = 0;         // prompts sent back to wait for memory
  int64_t pool_blocks = 0;      // usable blocks
  int64_t peak_used_blocks = 0;
  // Mean over decode steps of the filled share of the used blocks' slots.
  double mean_block_fill = 0.0;
  // Most unfilled slots of the used blocks per active sequence, over the
  // decode steps (at most block_tokens - 1: only a last block is partial).
  double max_waste_per_sequence = 0.0;
  int64_t kv_bytes_per_token = 0;  // keys and values, all layers
};

// How the trainer samples: what to draw, and how the engine batches it.
struct GenerationSettings {
  SamplingOptions sampling;
  EngineOptions engine;
};

class GenerationEngine {
 public:
  GenerationEngine(LanguageModel& policy, const SamplingOptions& sampling,
                   const EngineOptions& options);

  // Samples requests[r].responses responses to each prompt; the result
  // holds them request by request, and its i-th sequence draws from
  // SequenceStream(stream_seed, first_sequence + i) (so a batch split over
  // rollout workers samples what one worker would). InvalidArgument when a
  // request cannot run at all: more responses than max_sequences, a prompt plus
  // max_new_tokens longer than the model's max_seq_len, or a request that
  // alone needs more blocks than the pool has.
  absl::StatusOr<std::vector<SampledSequence>> Run(
      const std::vector<GenerationRequest>& requests, uint64_t stream_seed,
      int64_t first_sequence = 0);

  // Of the last Run.
  const EngineStats& stats() const { return stats_; }

 private:
  LanguageModel& policy_;
  SamplingOptions sampling_;
  EngineOptions options_;
  EngineStats stats_;
};

// The engine's output as the static sampler's Generation: prompts (one per
// sequence) left-padded, then the responses right-padded with pad_id, and
// their log-probabilities (float32, 0 at padding), on `device`.
Generation ToGeneration(const std::vector<TokenSequence>& prompts,
                        const std::vector<SampledSequence>& sampled,
                        int64_t pad_id, const torch::Device& device);

// Each prompt `responses` times, as the engine's requests.
std::vector<GenerationRequest> Requests(
    const std::vector<TokenSequence>& prompts, int64_t responses);

}  // namespace metarm

#endif  // METARM_ROLLOUT_GENERATION_ENGINE_H_
