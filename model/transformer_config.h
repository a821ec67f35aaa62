// The shape of a decoder-only transformer.
//
//   TransformerConfig config;
//   config.d_model = 128;
//   LanguageModel policy(config);  // model/transformer.h
#ifndef METARM_MODEL_TRANSFORMER_CONFIG_H_
#define METARM_MODEL_TRANSFORMER_CONFIG_H_

#include <cstdint>
#include <string>

namespace metarm {

// The normalisation layers: LayerNorm (GPT-2, metarm's own models) or
// RMSNorm (Llama: x / sqrt(mean(x²) + eps) * weight).
enum class NormKind { kLayerNorm, kRmsNorm };
// The MLP: GELU (exact, metarm's own), GELU with the tanh approximation
// (GPT-2's "gelu_new"), or SwiGLU (Llama: down(silu(gate(x)) * up(x))).
enum class MlpKind { kGelu, kGeluTanh, kSwiGlu };

struct TransformerConfig {
  int64_t vocab_size = 259;
  int64_t d_model = 64;
  int64_t n_layers = 2;
  int64_t n_heads = 4;
  int64_t d_ff = 256;
  int64_t max_seq_len = 128;
  bool rotary = false;  // rotary positions instead of learned ones
  double dropout = 0.0;
  // What the pretrained architectures need (model/hf_checkpoint.h); the
  // defaults are metarm's own model.
  int64_t n_kv_heads = 0;  // key/value heads (grouped-query); 0: n_heads
  NormKind norm = NormKind::kLayerNorm;
  double norm_eps = 1e-5;
  MlpKind mlp = MlpKind::kGelu;
  bool bias = true;             // biases in the linear layers
  bool tie_embeddings = false;  // the LM head is the token embedding
  double rope_theta = 10000.0;  // rotary base
  // Biases on the query, key and value projections alone (Qwen2), where
  // `bias` is false.
  bool qkv_bias = false;
  // Llama 3's rope_scaling ("rope_type": "llama3"); factor 0: none. Slow
  // frequencies are divided by `factor`, fast ones kept, the band between
  // the wavelengths original_max_positions / low_freq_factor and
  // original_max_positions / high_freq_factor interpolated.
  struct RopeScaling {
    double factor = 0;
    double low_freq_factor = 1;
    double high_freq_factor = 4;
    double original_max_positions = 8192;
    bool operator==(const RopeScaling& o) const {
      return factor == o.factor && low_freq_factor == o.low_freq_factor &&
             high_freq_factor == o.high_freq_factor &&
             original_max_positions == o.original_max_positions;
    }
  };
  RopeScaling rope_scaling;
  // Not the architecture but how it trains (left out of ==): each block's
  // activations are recomputed in the backward pass instead of kept
  // (model/activation_checkpoint.h).
  bool activation_checkpointing = false;
  // Nor is this: compute in bfloat16 on float32 weights
  // (model/mixed_precision.h).
  bool bf16 = false;
  // Nor this: attention through LibTorch's fused scaled_dot_product_attention
  // where it has the public op (model/attention.h). Off where a gradient of
  // a gradient is taken (METARM_EXACT's reward model): the fused GPU
  // kernels have no double backward.
  bool fused_attention = true;

  int64_t head_dim() const { return d_model / n_heads; }
  int64_t kv_heads() const { return n_kv_heads > 0 ? n_kv_heads : n_heads; }
  bool operator==(const TransformerConfig& other) const;
  bool operator!=(const TransformerConfig& other) const {
    return !(*this == other);
  }
};

// "vocab 259, d_model 64, layers 2, heads 4, d_ff 256, max_seq_len 128,
// learned positions": for messages.
std::string DescribeConfig(const TransformerConfig& config);

// The architecture of `shape` with the training settings (activation
// checkpointing, bf16, fused attention) of `settings`: the PPO critic has the
// reward model's shape and trains with the policy.
TransformerConfig WithTrainingSettingsOf(TransformerConfig shape,
                                         const TransformerConfig& settings);

}  // namespace metarm

#endif  // METARM_MODEL_TRANSFORMER_CONFIG_H_
