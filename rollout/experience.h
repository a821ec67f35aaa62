// One rollout batch as the PPO learners take it, and the log-probabilities
// and values both sides compute on it.
//
//   Experience e = BuildExperience(policy, reference, reward_model, prompts,
//   ...); auto [logprobs, entropy] = ResponseLogprobs(policy, e.sequences,
//                                               e.prompt_columns);
#ifndef METARM_ROLLOUT_EXPERIENCE_H_
#define METARM_ROLLOUT_EXPERIENCE_H_

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "model/token_batch.h"
#include "model/transformer.h"

namespace metarm {

// One rollout batch: B prompts (left-padded, P columns) and their sampled
// responses (N columns, right-padded), scored.
struct Experience {
  TokenBatch sequences;           // [B, P + N]
  int64_t prompt_columns = 0;     // P
  torch::Tensor response_mask;    // [B, N]
  torch::Tensor old_logprobs;     // [B, N] log π_old of the sampled tokens
  torch::Tensor ref_logprobs;     // [B, N] log π_ref of the sampled tokens
  torch::Tensor scores;           // [B] reward-model scores
  int64_t policy_version = 0;     // the weights the responses were sampled with
  double generation_seconds = 0;  // the rollout worker's sampling time
  double scoring_seconds = 0;     // and its scoring time
  int64_t size() const { return sequences.size(); }
  // Rows `rows` of every tensor.
  Experience Select(const torch::Tensor& rows) const;
  // Rows [begin, begin + count) of every tensor, sharing storage.
  Experience Rows(int64_t begin, int64_t count) const;
  // Every tensor on `device`.
  Experience To(const torch::Device& device) const;
};

// log π(response token) and the entropy of π at each response position,
// each [B, N], for the model `policy` (with gradients).
std::pair<torch::Tensor, torch::Tensor> ResponseLogprobs(
    LanguageModel& policy, const TokenBatch& sequences, int64_t prompt_columns);

// Values V(s_t) of the critic at each response position, [B, N]: the value
// read at the token before each response token.
torch::Tensor ResponseValues(ScalarModel& critic, const TokenBatch& sequences,
                             int64_t prompt_columns);

// Rows of several batches as one, in order: prompts re-padded on the left,
// responses on the right.
Experience ConcatenateExperience(const std::vector<Experience>& parts);

}  // namespace metarm

#endif  // METARM_ROLLOUT_EXPERIENCE_H_
