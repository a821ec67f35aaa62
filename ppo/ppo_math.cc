#include "ppo/ppo_math.h"

#include <algorithm>

namespace metarm {

torch::Tensor TokenRewards(const torch::Tensor& scores,
                           const torch::Tensor& logprobs,
                           const torch::Tensor& ref_logprobs,
                           const torch::Tensor& mask, double kl_coef,
                           double reward_clip) {
  torch::Tensor real = mask.to(logprobs.scalar_type());
  torch::Tensor rewards = -kl_coef * (logprobs - ref_logprobs) * real;
  torch::Tensor score = scores.to(logprobs.scalar_type());
  if (reward_clip > 0) score = score.clamp(-reward_clip, reward_clip);
  // The last real token of each row (responses are right-padded).
  torch::Tensor last = (real.sum(1) - 1).clamp_min(0).to(torch::kInt64);
  return rewards.scatter_add(1, last.unsqueeze(1),
                             (score * (real.sum(1) > 0)).unsqueeze(1));
}

std::pair<torch::Tensor, torch::Tensor> Gae(const torch::Tensor& rewards,
                                            const torch::Tensor& values,
                                            const torch::Tensor& mask,
                                            double gamma, double lambda) {
  torch::Tensor real = mask.to(rewards.scalar_type());
  const int64_t length = rewards.size(1);
  torch::Tensor advantages = torch::zeros_like(rewards);
  torch::Tensor next_value = torch::zeros({rewards.size(0)}, rewards.options());
  torch::Tensor next_advantage = torch::zeros_like(next_value);
  for (int64_t t = length - 1; t >= 0; --t) {
    torch::Tensor m = real.select(1, t);
    torch::Tensor v = values.select(1, t) * m;
    // δ_t = r_t + γ V_{t+1} − V_t;  A_t = δ_t + γλ A_{t+1}
    torch::Tensor delta = rewards.select(1, t) + gamma * next_value - v;
    torch::Tensor advantage = (delta + gamma * lambda * next_advantage) * m;
    advantages.select(1, t).copy_(advantage);
    next_value = v;
    next_advantage = advantage;
  }
  return {advantages, (advantages + values) * real};
}

torch::Tensor MaskedMean(const torch::Tensor& x, const torch::Tensor& mask) {
  torch::Tensor real = mask.to(x.scalar_type());
  return (x * real).sum() / real.sum().clamp_min(1);
}

torch::Tensor Whiten(const torch::Tensor& x, const torch::Tensor& mask) {
  torch::Tensor real = mask.to(x.scalar_type());
  torch::Tensor mean = MaskedMean(x, mask);
  torch::Tensor variance = MaskedMean((x - mean).pow(2), mask);
  return (x - mean) * torch::rsqrt(variance + 1e-8) * real;
}

PpoLosses ComputePpoLosses(
    const torch::Tensor& logprobs, const torch::Tensor& old_logprobs,
    const torch::Tensor& advantages, const torch::Tensor& values,
    const torch::Tensor& old_values, const torch::Tensor& returns,
    const torch::Tensor& entropy, const torch::Tensor& mask, double clip_range,
    double value_clip_range) {
  PpoLosses losses;
  torch::Tensor ratio = (logprobs - old_logprobs).exp();
  torch::Tensor unclipped = -advantages * ratio;
  torch::Tensor clipped =
      -advantages * ratio.clamp(1.0 - clip_range, 1.0 + clip_range);
  losses.policy = MaskedMean(torch::max(unclipped, clipped), mask);
  torch::Tensor values_clipped =
      old_values +
      (values - old_values).clamp(-value_clip_range, value_clip_range);
  losses.value = 0.5 * MaskedMean(torch::max((values - returns).pow(2),
                                             (values_clipped - returns).pow(2)),
                                  mask);
  losses.entropy = MaskedMean(entropy, mask);
  torch::NoGradGuard no_grad;
  losses.clip_fraction =
      MaskedMean((clipped > unclipped).to(logprobs.scalar_type()), mask)
          .item<double>();
  losses.approx_kl = MaskedMean(old_logprobs - logprobs, mask).item<double>();
  return losses;
}

void KlController::Update(double kl, int64_t sequences) {
  if (target_ <= 0) return;
  const double error = std::clamp(kl / target_ - 1.0, -0.2, 0.2);
  value_ *= 1.0 + error * static_cast<double>(sequences) / horizon_;
}

}  // namespace metarm
