#include "rollout/sampler.h"

#include <algorithm>

namespace metarm {

torch::Tensor TopPFilter(const torch::Tensor& probs, double top_p) {
  if (top_p >= 1.0) return probs;
  auto [sorted, order] = probs.sort(/*dim=*/-1, /*descending=*/true);
  // A token is kept when the probability of the tokens before it is still
  // below top_p: the first token always is.
  torch::Tensor before = sorted.cumsum(-1) - sorted;
  torch::Tensor kept = sorted.masked_fill(before >= top_p, 0.0);
  torch::Tensor filtered = torch::zeros_like(probs).scatter(-1, order, kept);
  return filtered / filtered.sum(-1, /*keepdim=*/true);
}

Generation Generate(LanguageModel& policy, const TokenBatch& prompts,
                    const SamplingOptions& options, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  ScopedEvalMode sampling(*policy);
  const TokenBatch on_device = prompts.To(ModuleDevice(*policy));
  const int64_t batch = prompts.size();
  KvCache cache;
  torch::Tensor logits =
      policy->forward(on_device.tokens, on_device.mask, &cache);
  torch::Tensor active =
      torch::ones({batch}, on_device.tokens.options().dtype(torch::kBool));
  std::vector<torch::Tensor> tokens, masks, logprobs;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    torch::Tensor scaled = logits.select(1, -1) / options.temperature;
    torch::Tensor log_probs =
        torch::log_softmax(scaled.to(torch::kFloat64), -1);
    torch::Tensor probs = TopPFilter(log_probs.exp(), options.top_p);
    // The draw is made where the generator lives (the CPU for the trainer's
    // seeded streams), so a seed gives the same tokens on any device.
    torch::Tensor next = torch::multinomial(probs.to(generator.device()), 1,
                                            /*replacement=*/false, generator)
                             .squeeze(1)
                             .to(probs.device());
    torch::Tensor mask = active.to(torch::kInt64);
    next = torch::where(active, next, torch::full_like(next, options.pad_id));
    tokens.push_back(next);
    masks.push_back(mask);
    logprobs.push_back(
        (log_probs.gather(1, next.unsqueeze(1)).squeeze(1) * mask)
            .to(torch::kFloat32));
    // A row ends after its end token (which it keeps, mask 1).
    active = active & (next != options.eos_id);
    for (int64_t stop : options.stop_ids) active = active & (next != stop);
    if (!active.any().item<bool>() || step + 1 == options.max_new_tokens) break;
    logits = policy->forward(next.unsqueeze(1), mask.unsqueeze(1), &cache);
  }
  Generation out;
  out.responses = {torch::stack(tokens, 1), torch::stack(masks, 1)};
  out.sequences = {torch::cat({on_device.tokens, out.responses.tokens}, 1),
                   torch::cat({on_device.mask, out.responses.mask}, 1)};
  out.logprobs = torch::stack(logprobs, 1);
  return out;
}

bool SamplingOptions::Ends(int64_t token) const {
  return token == eos_id ||
         std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end();
}

}  // namespace metarm
