#include "model/attention.h"

#include <cmath>
#include <tuple>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
#define METARM_HAS_SDPA 1
#endif

namespace metarm {

torch::Tensor ExplicitAttention(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v,
                                const torch::Tensor& bias,
                                torch::nn::Dropout& dropout) {
  torch::Tensor scores =
      torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(q.size(-1))) +
      bias;
  return torch::matmul(dropout(torch::softmax(scores, -1)), v);
}

torch::Tensor FusedAttention(const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v, const torch::Tensor& bias,
                             double dropout_p) {
  // The op wants a float mask of the query's type (bf16 under autocast).
  const torch::Tensor mask = bias.to(q.scalar_type());
#ifdef METARM_HAS_SDPA
  return at::scaled_dot_product_attention(q, k, v, mask, dropout_p,
                                          /*is_causal=*/false);
#else
  return std::get<0>(at::_scaled_dot_product_attention(
      q, k, v, mask, dropout_p, /*need_attn_weights=*/false,
      /*is_causal=*/false));
#endif
}

bool FusedAttentionAvailable() {
#ifdef METARM_HAS_SDPA
  return true;
#else
  return false;
#endif
}

}  // namespace metarm
