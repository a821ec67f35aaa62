#include "rollout/experience.h"

#include <algorithm>

namespace metarm {

Experience Experience::Select(const torch::Tensor& selected) const {
  const torch::Tensor rows = selected.to(response_mask.device());
  Experience out;
  out.sequences = {sequences.tokens.index_select(0, rows),
                   sequences.mask.index_select(0, rows)};
  out.prompt_columns = prompt_columns;
  out.response_mask = response_mask.index_select(0, rows);
  out.old_logprobs = old_logprobs.index_select(0, rows);
  out.ref_logprobs = ref_logprobs.index_select(0, rows);
  out.scores = scores.index_select(0, rows);
  out.policy_version = policy_version;
  return out;
}

Experience Experience::Rows(int64_t begin, int64_t count) const {
  Experience out = *this;
  out.sequences = sequences.Rows(begin, count);
  out.response_mask = response_mask.narrow(0, begin, count);
  out.old_logprobs = old_logprobs.narrow(0, begin, count);
  out.ref_logprobs = ref_logprobs.narrow(0, begin, count);
  out.scores = scores.narrow(0, begin, count);
  return out;
}

Experience Experience::To(const torch::Device& device) const {
  Experience out = *this;
  out.sequences = sequences.To(device);
  out.response_mask = response_mask.to(device);
  out.old_logprobs = old_logprobs.to(device);
  out.ref_logprobs = ref_logprobs.to(device);
  out.scores = scores.to(device);
  return out;
}

std::pair<torch::Tensor, torch::Tensor> ResponseLogprobs(
    LanguageModel& policy, const TokenBatch& batch, int64_t prompt_columns) {
  const TokenBatch sequences = batch.To(ModuleDevice(*policy));
  const int64_t responses = sequences.tokens.size(1) - prompt_columns;
  // Position t predicts token t + 1: the logits before each response token.
  torch::Tensor logits = policy->forward(sequences.tokens, sequences.mask)
                             .narrow(1, prompt_columns - 1, responses);
  torch::Tensor log_probs = torch::log_softmax(logits, -1);
  torch::Tensor tokens = sequences.tokens.narrow(1, prompt_columns, responses);
  torch::Tensor chosen = log_probs.gather(2, tokens.unsqueeze(2)).squeeze(2);
  torch::Tensor entropy = -(log_probs.exp() * log_probs).sum(-1);
  return {chosen, entropy};
}

torch::Tensor ResponseValues(ScalarModel& critic, const TokenBatch& batch,
                             int64_t prompt_columns) {
  const TokenBatch sequences = batch.To(ModuleDevice(*critic));
  const int64_t responses = sequences.tokens.size(1) - prompt_columns;
  return critic->Values(sequences.tokens, sequences.mask)
      .narrow(1, prompt_columns - 1, responses);
}

Experience ConcatenateExperience(const std::vector<Experience>& parts) {
  int64_t prompt_columns = 0, response_columns = 0;
  for (const Experience& part : parts) {
    prompt_columns = std::max(prompt_columns, part.prompt_columns);
    response_columns = std::max(
        response_columns, part.sequences.tokens.size(1) - part.prompt_columns);
  }
  std::vector<torch::Tensor> tokens, masks, response_masks, old_lp, ref_lp,
      scores;
  for (const Experience& part : parts) {
    const int64_t left = prompt_columns - part.prompt_columns;
    const int64_t right = response_columns -
                          (part.sequences.tokens.size(1) - part.prompt_columns);
    tokens.push_back(
        torch::constant_pad_nd(part.sequences.tokens, {left, right}));
    masks.push_back(torch::constant_pad_nd(part.sequences.mask, {left, right}));
    response_masks.push_back(
        torch::constant_pad_nd(part.response_mask, {0, right}));
    old_lp.push_back(torch::constant_pad_nd(part.old_logprobs, {0, right}));
    ref_lp.push_back(torch::constant_pad_nd(part.ref_logprobs, {0, right}));
    scores.push_back(part.scores);
  }
  Experience out;
  for (const Experience& part : parts) {
    out.policy_version = part.policy_version;
    out.generation_seconds =
        std::max(out.generation_seconds, part.generation_seconds);
    out.scoring_seconds = std::max(out.scoring_seconds, part.scoring_seconds);
  }
  out.sequences = {torch::cat(tokens), torch::cat(masks)};
  out.prompt_columns = prompt_columns;
  out.response_mask = torch::cat(response_masks);
  out.old_logprobs = torch::cat(old_lp);
  out.ref_logprobs = torch::cat(ref_lp);
  out.scores = torch::cat(scores);
  return out;
}

}  // namespace metarm
