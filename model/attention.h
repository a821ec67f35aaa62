// The attention product softmax(q kᵀ / sqrt(hd) + bias) v, two ways.
//
//   torch::Tensor out = FusedAttentionAvailable()
//       ? FusedAttention(q, k, v, bias, dropout_p)
//       : ExplicitAttention(q, k, v, bias, dropout);
//
// ExplicitAttention is the product written out (every LibTorch; twice
// differentiable, which METARM_EXACT's double backward needs).
// FusedAttention is LibTorch's scaled_dot_product_attention: from 2.0 the
// public op, which picks FlashAttention or memory-efficient kernels on GPUs;
// in 1.13 (Debian's) its private forerunner, whose CPU path is the same
// product in one call. The models use it only where the public op exists
// (FusedAttentionAvailable) and the model allows it
// (TransformerConfig::fused_attention).
#ifndef METARM_MODEL_ATTENTION_H_
#define METARM_MODEL_ATTENTION_H_

#include <torch/torch.h>

namespace metarm {

// q [B, H, T, hd], k and v [B, H, S, hd], bias [B, 1, T, S] additive (0 or
// -inf, every query row with at least one 0): [B, H, T, hd].
torch::Tensor ExplicitAttention(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v,
                                const torch::Tensor& bias,
                                torch::nn::Dropout& dropout);

// The same through scaled_dot_product_attention; dropout_p applies to the
// attention weights (0 outside training).
torch::Tensor FusedAttention(const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v, const torch::Tensor& bias,
                             double dropout_p);

// Whether this LibTorch has the public scaled_dot_product_attention (2.0
// and later).
bool FusedAttentionAvailable();

}  // namespace metarm

#endif  // METARM_MODEL_ATTENTION_H_
