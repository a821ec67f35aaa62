#include "bench/flops.h"

namespace metarm {

ModelShape ShapeOf(const TransformerConfig& config, bool lm_head) {
  ModelShape shape;
  shape.d_model = config.d_model;
  shape.layers = config.n_layers;
  shape.d_ff = config.d_ff;
  shape.vocab = config.vocab_size;
  shape.head_dim = config.head_dim();
  shape.heads = config.n_heads;
  shape.kv_heads = config.kv_heads();
  shape.swiglu = config.mlp == MlpKind::kSwiGlu;
  shape.lm_head = lm_head;
  return shape;
}

double ForwardFlops(const ModelShape& s, int64_t sequences, int64_t tokens) {
  // Weights each token meets in one layer: the q/k/v and output projections
  // and the MLP (SwiGLU has three matrices).
  const double qkv =
      double(s.d_model) * (s.heads + 2 * s.kv_heads) * s.head_dim;
  const double out = double(s.heads) * s.head_dim * s.d_model;
  const double mlp = double(s.d_model) * s.d_ff * (s.swiglu ? 3 : 2);
  const double per_token_layer =
      2 * (qkv + out + mlp) +
      // q·k over T keys and the weighted sum of T values.
      2 * 2 * double(tokens) * s.heads * s.head_dim;
  const double head = 2.0 * s.d_model * (s.lm_head ? s.vocab : 1);
  return double(sequences) * tokens * (s.layers * per_token_layer + head);
}

double RewardStepFlops(const ModelShape& shape, int64_t sequences,
                       int64_t tokens) {
  return 3 * ForwardFlops(shape, sequences, tokens);
}

double MetaRmStepFlops(const ModelShape& shape, int64_t pair_sequences,
                       int64_t meta_sequences, int64_t tokens) {
  return 5 * ForwardFlops(shape, meta_sequences, tokens) +
         3 * ForwardFlops(shape, pair_sequences, tokens);
}

double PpoUpdateFlops(const ModelShape& policy, const ModelShape& critic,
                      int64_t batch, int64_t tokens) {
  return ForwardFlops(critic, batch, tokens) +
         3 * ForwardFlops(policy, batch, tokens) +
         3 * ForwardFlops(critic, batch, tokens);
}

}  // namespace metarm
