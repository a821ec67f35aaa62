// The arithmetic of PPO for RLHF, on padded [B, N] response tensors whose
// `mask` is 1 for real response tokens (the end token included) and 0 after.
//
//   torch::Tensor rewards = TokenRewards(scores, logprobs, ref_logprobs, mask,
//                                        kl_coef, reward_clip);
//   auto [advantages, returns] = Gae(rewards, values, mask, gamma, lambda);
//   advantages = Whiten(advantages, mask);
//   PpoLosses losses = ComputePpoLosses(...);
//
// Equations as in Ziegler et al. 2019 ("Fine-Tuning Language Models from
// Human Preferences") and Schulman et al. 2017 (PPO), named beside the code.
#ifndef METARM_PPO_PPO_MATH_H_
#define METARM_PPO_PPO_MATH_H_

#include <torch/torch.h>

#include <utility>

namespace metarm {

// Per-token rewards: r_t = −β (log π(a_t) − log π_ref(a_t)) on every response
// token, plus the sequence's reward-model score, clipped to ±reward_clip
// (0: no clipping), on its last real token.
torch::Tensor TokenRewards(const torch::Tensor& scores,
                           const torch::Tensor& logprobs,
                           const torch::Tensor& ref_logprobs,
                           const torch::Tensor& mask, double kl_coef,
                           double reward_clip);

// Generalised advantage estimation, right to left over each row's real
// tokens (the value after the last one is 0):
//   δ_t = r_t + γ V_{t+1} − V_t,   A_t = δ_t + γλ A_{t+1},   R_t = A_t + V_t.
// Returns {advantages, returns}, 0 at padding.
std::pair<torch::Tensor, torch::Tensor> Gae(const torch::Tensor& rewards,
                                            const torch::Tensor& values,
                                            const torch::Tensor& mask,
                                            double gamma, double lambda);

// (x − mean) / std over the real tokens; 0 at padding.
torch::Tensor Whiten(const torch::Tensor& x, const torch::Tensor& mask);

// Mean of x over the real tokens.
torch::Tensor MaskedMean(const torch::Tensor& x, const torch::Tensor& mask);

struct PpoLosses {
  torch::Tensor policy;      // clipped surrogate, to minimise
  torch::Tensor value;       // clipped value loss, to minimise
  torch::Tensor entropy;     // mean entropy of π over the real tokens
  double clip_fraction = 0;  // share of tokens whose ratio was clipped
  double approx_kl = 0;  // mean (log π_old − log π) over the real tokens
};

// Policy: ρ = exp(log π − log π_old),
//   L^CLIP = mean max(−A ρ, −A clip(ρ, 1 − ε, 1 + ε)).
// Value: V_clip = V_old + clip(V − V_old, −c, c),
//   L^V = ½ mean max((V − R)², (V_clip − R)²).
// `entropy` is the per-token entropy [B, N] of the current policy.
PpoLosses ComputePpoLosses(
    const torch::Tensor& logprobs, const torch::Tensor& old_logprobs,
    const torch::Tensor& advantages, const torch::Tensor& values,
    const torch::Tensor& old_values, const torch::Tensor& returns,
    const torch::Tensor& entropy, const torch::Tensor& mask, double clip_range,
    double value_clip_range);

// The adaptive KL coefficient of Ziegler et al.: after a batch with mean KL
// per sequence `kl`, β ← β (1 + clip(kl / target − 1, −0.2, 0.2) · n / horizon)
// with n the sequences in the batch. With target 0 β stays fixed.
class KlController {
 public:
  KlController(double initial, double target, double horizon = 10000)
      : value_(initial), target_(target), horizon_(horizon) {}
  double value() const { return value_; }
  void Update(double kl, int64_t sequences);
  // Sets the coefficient (resuming from a checkpoint).
  void Restore(double value) { value_ = value; }

 private:
  double value_;
  double target_;
  double horizon_;
};

}  // namespace metarm

#endif  // METARM_PPO_PPO_MATH_H_
