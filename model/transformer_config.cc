#include "model/transformer_config.h"

#include "absl/strings/str_cat.h"

namespace metarm {

bool TransformerConfig::operator==(const TransformerConfig& other) const {
  return vocab_size == other.vocab_size && d_model == other.d_model &&
         n_layers == other.n_layers && n_heads == other.n_heads &&
         d_ff == other.d_ff && max_seq_len == other.max_seq_len &&
         rotary == other.rotary && kv_heads() == other.kv_heads() &&
         norm == other.norm && norm_eps == other.norm_eps && mlp == other.mlp &&
         bias == other.bias && tie_embeddings == other.tie_embeddings &&
         rope_theta == other.rope_theta && qkv_bias == other.qkv_bias &&
         rope_scaling == other.rope_scaling;
}

TransformerConfig WithTrainingSettingsOf(TransformerConfig shape,
                                         const TransformerConfig& settings) {
  shape.activation_checkpointing = settings.activation_checkpointing;
  shape.bf16 = settings.bf16;
  shape.fused_attention = settings.fused_attention;
  return shape;
}

std::string DescribeConfig(const TransformerConfig& config) {
  return absl::StrCat(
      "vocab ", config.vocab_size, ", d_model ", config.d_model, ", layers ",
      config.n_layers, ", heads ", config.n_heads, ", d_ff ", config.d_ff,
      ", max_seq_len ", config.max_seq_len, ", ",
      config.rotary ? "rotary" : "learned", " positions",
      config.kv_heads() != config.n_heads
          ? absl::StrCat(", kv heads ", config.kv_heads())
          : "",
      config.norm == NormKind::kRmsNorm ? ", RMSNorm" : "",
      config.mlp == MlpKind::kSwiGlu     ? ", SwiGLU"
      : config.mlp == MlpKind::kGeluTanh ? ", tanh GELU"
                                         : "",
      config.bias       ? ""
      : config.qkv_bias ? ", biases on q/k/v only"
                        : ", no biases",
      config.rope_scaling.factor > 0
          ? absl::StrCat(", rope scaled x", config.rope_scaling.factor)
          : "",
      config.tie_embeddings ? ", tied embeddings" : "");
}

}  // namespace metarm
