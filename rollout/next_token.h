// Choosing the next token of each sequence from the model's logits:
// temperature, nucleus (top-p) or greedy, an end token, and one seeded random
// stream per sequence.
//
//   std::vector<at::Generator> streams = SequenceStreams(seed, 0, rows);
//   NextTokens next = ChooseNextTokens(logits, options, streams);
//
// Every sequence draws its one uniform number per token from its own stream
// (SequenceStream: the run's stream seed and the sequence's index), so what a
// sequence samples does not depend on which other sequences share its batch,
// its slot or its step: the static sampler (rollout/sampler.h) and the
// generation engine (rollout/generation_engine.h) give the same tokens for
// the same streams.
#ifndef METARM_ROLLOUT_NEXT_TOKEN_H_
#define METARM_ROLLOUT_NEXT_TOKEN_H_

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace metarm {

struct SamplingOptions {
  double temperature = 1.0;  // > 0
  double top_p = 1.0;        // in (0, 1]
  // Argmax instead of a draw (log-probabilities still at `temperature`).
  bool greedy = false;
  int64_t max_new_tokens = 32;
  int64_t eos_id = 2;
  int64_t pad_id = 0;
  // More tokens that end a row as eos_id does (a chat template's end of turn
  // is eos_id, and the tokenizer's own end token is one of these).
  std::vector<int64_t> stop_ids;
  // True for eos_id and every stop id.
  bool Ends(int64_t token) const;
};

// The random stream of sequence `index` of a run whose streams are seeded
// `stream_seed` (util/random_streams.h's SubstreamSeed).
at::Generator SequenceStream(uint64_t stream_seed, int64_t index);

// Streams of sequences [first, first + count).
std::vector<at::Generator> SequenceStreams(uint64_t stream_seed, int64_t first,
                                           int64_t count);

struct NextTokens {
  torch::Tensor tokens;    // [B] int64, on the logits' device
  torch::Tensor logprobs;  // [B] float64: log π(token) at the temperature
};

// One token per row of `logits` [B, V], row b drawing from `streams[b]`:
// softmax(logits / temperature), restricted to the top-p nucleus, then the
// token whose cumulative probability first exceeds u·(total), u ~ U[0, 1)
// (inverse transform). Greedy takes the argmax and draws nothing.
NextTokens ChooseNextTokens(const torch::Tensor& logits,
                            const SamplingOptions& options,
                            std::vector<at::Generator*> streams);

// Keeps the smallest set of most likely tokens whose probability reaches
// top_p (at least one token) and renormalises. probs: [B, V].
torch::Tensor TopPFilter(const torch::Tensor& probs, double top_p);

}  // namespace metarm

#endif  // METARM_ROLLOUT_NEXT_TOKEN_H_
