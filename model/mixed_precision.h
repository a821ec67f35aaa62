// bfloat16 compute with float32 master weights (ModelSpec.precision: BF16),
// through LibTorch's autocast: inside a model's forward pass the matrix
// products (linear layers, attention) run in bfloat16 on casts of the
// float32 weights, the residual stream, the norms and the attention's
// softmax stay float32 (type promotion), and the models hand out float32
// logits and scores, so every loss, log-probability, KL and the MetaRM
// objective J is computed in float32. Gradients reach the float32 weights
// through the casts, and AdamW keeps float32 moments.
//
//   ScopedAutocast autocast(tokens.device(), config.bf16);
//   torch::Tensor logits = AtLeastFloat32(head(trunk(tokens)));
#ifndef METARM_MODEL_MIXED_PRECISION_H_
#define METARM_MODEL_MIXED_PRECISION_H_

#include <torch/torch.h>

namespace metarm {

// Autocast's settings on the CPU and the GPU at one moment (activation
// checkpointing replays them when it recomputes a block).
struct AutocastState {
  bool cpu = false;
  bool gpu = false;
  at::ScalarType cpu_dtype = at::kBFloat16;
  at::ScalarType gpu_dtype = at::kBFloat16;

  static AutocastState Now();
  void Apply() const;
};

// bfloat16 autocast on `device` for a scope when `enabled` (otherwise
// nothing changes); the previous settings come back at its end, and the
// cache of cast weights is dropped when the outermost scope ends (so that
// an optimizer step is seen by the next forward pass).
class ScopedAutocast {
 public:
  ScopedAutocast(const torch::Device& device, bool enabled);
  explicit ScopedAutocast(const AutocastState& state);
  ~ScopedAutocast();
  ScopedAutocast(const ScopedAutocast&) = delete;
  ScopedAutocast& operator=(const ScopedAutocast&) = delete;

 private:
  bool changed_ = false;
  AutocastState saved_;
};

// `t` in float32 when it is in a 16-bit float type; itself otherwise (a
// float64 model stays float64).
torch::Tensor AtLeastFloat32(const torch::Tensor& t);

}  // namespace metarm

#endif  // METARM_MODEL_MIXED_PRECISION_H_
