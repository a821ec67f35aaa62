#include "rollout/next_token.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "util/random_streams.h"

namespace metarm {

bool SamplingOptions::Ends(int64_t token) const {
  return token == eos_id ||
         std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end();
}

at::Generator SequenceStream(uint64_t stream_seed, int64_t index) {
  return at::detail::createCPUGenerator(
      SubstreamSeed(stream_seed, static_cast<uint64_t>(index)));
}

std::vector<at::Generator> SequenceStreams(uint64_t stream_seed, int64_t first,
                                           int64_t count) {
  std::vector<at::Generator> streams;
  streams.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    streams.push_back(SequenceStream(stream_seed, first + i));
  }
  return streams;
}

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

namespace {

// u_b ~ U[0, 1) from each row's own stream, [B] float64 on the CPU.
torch::Tensor Uniforms(std::vector<at::Generator*>& streams) {
  torch::Tensor u =
      torch::empty({static_cast<int64_t>(streams.size())}, torch::kFloat64);
  for (size_t b = 0; b < streams.size(); ++b) {
    u.narrow(0, static_cast<int64_t>(b), 1).uniform_(0.0, 1.0, *streams[b]);
  }
  return u;
}

// Inverse transform: the first token whose cumulative probability exceeds
// u·total (never a token of probability 0). probs [B, V] on the CPU.
torch::Tensor InverseTransform(const torch::Tensor& probs,
                               const torch::Tensor& u) {
  torch::Tensor cumulative = probs.cumsum(-1);
  torch::Tensor target = (u * cumulative.select(1, -1)).unsqueeze(1);
  return torch::searchsorted(cumulative, target, /*out_int32=*/false,
                             /*right=*/true)
      .squeeze(1)
      .clamp_max(probs.size(1) - 1);
}

}  // namespace

NextTokens ChooseNextTokens(const torch::Tensor& logits,
                            const SamplingOptions& options,
                            std::vector<at::Generator*> streams) {
  // Float64 from here: the same logits give the same choice on any batch.
  torch::Tensor log_probs =
      torch::log_softmax(logits.to(torch::kFloat64) / options.temperature, -1);
  torch::Tensor tokens;
  if (options.greedy) {
    tokens = log_probs.argmax(-1);
  } else {
    // Drawn on the CPU, where the streams live, so a seed gives the same
    // tokens on any device.
    torch::Tensor probs =
        TopPFilter(log_probs.exp(), options.top_p).to(torch::kCPU);
    tokens = InverseTransform(probs, Uniforms(streams)).to(logits.device());
  }
  return {tokens, log_probs.gather(1, tokens.unsqueeze(1)).squeeze(1)};
}

}  // namespace metarm
