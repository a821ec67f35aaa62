#include "rollout/sampler.h"

#include <stdexcept>
#include <string>

namespace metarm {

Generation Generate(LanguageModel& policy, const TokenBatch& prompts,
                    const SamplingOptions& options,
                    std::vector<at::Generator>& streams) {
  const int64_t batch = prompts.size();
  if (static_cast<int64_t>(streams.size()) != batch) {
    throw std::invalid_argument("Generate: " + std::to_string(streams.size()) +
                                " streams for " + std::to_string(batch) +
                                " rows");
  }
  std::vector<at::Generator*> row_streams;
  for (at::Generator& stream : streams) row_streams.push_back(&stream);
  torch::NoGradGuard no_grad;
  ScopedEvalMode sampling(*policy);
  const TokenBatch on_device = prompts.To(ModuleDevice(*policy));
  KvCache cache;
  torch::Tensor logits =
      policy->forward(on_device.tokens, on_device.mask, &cache);
  torch::Tensor active =
      torch::ones({batch}, on_device.tokens.options().dtype(torch::kBool));
  std::vector<torch::Tensor> tokens, masks, logprobs;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    NextTokens chosen =
        ChooseNextTokens(logits.select(1, -1), options, row_streams);
    torch::Tensor mask = active.to(torch::kInt64);
    torch::Tensor next = torch::where(
        active, chosen.tokens, torch::full_like(chosen.tokens, options.pad_id));
    tokens.push_back(next);
    masks.push_back(mask);
    logprobs.push_back((chosen.logprobs * mask).to(torch::kFloat32));
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

}  // namespace metarm
