// A GPT-style decoder-only transformer in the LibTorch C++ frontend, and the
// three models built on it: the language model (policy and frozen
// reference), the reward model and the value model (PPO critic).
//
//   torch::manual_seed(seed);
//   LanguageModel policy(config);
//   torch::Tensor logits = policy->forward(tokens, mask);      // [B, T, V]
//   ScalarModel reward(config);
//   torch::Tensor scores = reward->Score(tokens, mask);         // [B]
//
// Padding is handled in one place: `mask` [B, T] is 1 for real tokens and 0
// for padding, on either side. Positions count real tokens only
// (cumsum(mask) - 1), and no query attends to a padding key. So a sequence
// gives the same outputs whatever padding surrounds it.
#ifndef METARM_MODEL_TRANSFORMER_H_
#define METARM_MODEL_TRANSFORMER_H_

#include <torch/torch.h>

#include <optional>
#include <vector>

#include "model/decode_attention.h"
#include "model/transformer_config.h"

namespace metarm {

// Where the attention layers keep keys and values during incremental
// decoding. Once per forward the trunk asks the store where the new tokens
// sit (their positions, and the attention bias over every key the layers
// will see); then each layer hands it the new tokens' keys and values and
// attends over what it gives back. KvCache below keeps them as contiguous
// tensors; rollout/paged_kv_pool.h keeps them in blocks of a shared pool.
class KvStore {
 public:
  struct Step {
    torch::Tensor positions;  // [B, T]: position of each new token
    torch::Tensor bias;       // [B, 1, T, S]: 0 or -inf, over Store's keys
    int64_t length = 0;       // tokens per row after the step (max_seq_len)
  };
  virtual ~KvStore() = default;
  // `new_mask` [B, T]: 1 for the new real tokens, 0 for padding.
  virtual Step Begin(const torch::Tensor& new_mask,
                     torch::ScalarType dtype) = 0;
  // Layer `layer`'s keys and values of the new tokens [B, kv_heads, T, hd]
  // (rotated); returns the keys and values to attend over [B, kv_heads, S,
  // hd], the new ones included.
  virtual std::pair<torch::Tensor, torch::Tensor> Store(
      int64_t layer, const torch::Tensor& keys,
      const torch::Tensor& values) = 0;
  // For a decode step (T = 1) outside autograd: stores the new keys and
  // values as Store does and returns where every row's keys now live, for
  // DecodeAttention (model/decode_attention.h) to read in place; or nullopt,
  // having stored nothing, when the store cannot (then the layer calls
  // Store).
  virtual std::optional<DecodeKeys> StoreForDecode(
      int64_t /*layer*/, const torch::Tensor& /*keys*/,
      const torch::Tensor& /*values*/) {
    return std::nullopt;
  }
};

// Keys and values of the tokens seen so far, one entry per layer, for
// incremental decoding of one batch. Start empty; each forward with the
// cache appends (a column per new token, padding included).
struct KvCache : public KvStore {
  std::vector<torch::Tensor> keys;    // [B, heads, S, head_dim] per layer
  std::vector<torch::Tensor> values;  // [B, heads, S, head_dim] per layer
  torch::Tensor mask;                 // [B, S]: the keys' padding mask

  int64_t length() const { return mask.defined() ? mask.size(1) : 0; }
  // Bytes held, for the memory-per-sequence figure.
  int64_t bytes() const;

  Step Begin(const torch::Tensor& new_mask, torch::ScalarType dtype) override;
  std::pair<torch::Tensor, torch::Tensor> Store(
      int64_t layer, const torch::Tensor& new_keys,
      const torch::Tensor& new_values) override;
  std::optional<DecodeKeys> StoreForDecode(
      int64_t layer, const torch::Tensor& new_keys,
      const torch::Tensor& new_values) override;
};

// LayerNorm or RMSNorm (config.norm), with LayerNorm's parameter names
// ("weight", "bias"), so that weight files keep their names.
class NormLayerImpl : public torch::nn::Module {
 public:
  NormLayerImpl(const TransformerConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  NormKind kind_;
  double eps_;
  torch::Tensor weight_;
  torch::Tensor bias_;  // LayerNorm only
};
TORCH_MODULE(NormLayer);

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const TransformerConfig& config);
  // x [B, T, D]; bias [B, 1, T, S] (0 or -inf); rotary cos/sin [B, 1, T,
  // head_dim/2] or undefined. With a `store`, the new keys and values go to
  // it as layer `layer`'s and the queries attend over what it returns.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias,
                        const torch::Tensor& cos, const torch::Tensor& sin,
                        KvStore* store, int64_t layer);

 private:
  int64_t n_heads_;
  int64_t kv_heads_;
  int64_t head_dim_;
  bool fused_;  // model/attention.h's FusedAttention, else the explicit one
  double dropout_p_;
  // One projection to [queries | keys | values]: n_heads, kv_heads and
  // kv_heads heads of head_dim each (grouped-query attention when
  // kv_heads < n_heads).
  torch::nn::Linear qkv_{nullptr};
  torch::nn::Linear out_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(CausalSelfAttention);

// Pre-LayerNorm block: x + attn(ln(x)), then x + mlp(ln(x)).
class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const TransformerConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias,
                        const torch::Tensor& cos, const torch::Tensor& sin,
                        KvStore* store, int64_t layer);

 private:
  torch::Tensor Mlp(const torch::Tensor& x);

  MlpKind mlp_kind_;
  NormLayer ln_attention_{nullptr};
  CausalSelfAttention attention_{nullptr};
  NormLayer ln_mlp_{nullptr};
  // GELU MLPs: [d_ff]; SwiGLU: [gate | up], 2 * d_ff.
  torch::nn::Linear mlp_in_{nullptr};
  torch::nn::Linear mlp_out_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(TransformerBlock);

// Embeddings, blocks, final LayerNorm: tokens to hidden states.
class TransformerTrunkImpl : public torch::nn::Module {
 public:
  explicit TransformerTrunkImpl(const TransformerConfig& config);

  // tokens [B, T] (int64), mask [B, T] -> hidden [B, T, D]. With `cache`,
  // `tokens` are the next tokens after those it holds, `mask` their mask,
  // and the cache takes their keys and values. Throws if a sequence outgrows
  // max_seq_len.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& mask,
                        KvStore* cache = nullptr);

  const TransformerConfig& config() const { return config_; }
  // [vocab, d_model]; also the LM head when config.tie_embeddings.
  const torch::Tensor& token_embedding_weight() const {
    return token_embedding_->weight;
  }

 private:
  TransformerConfig config_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::nn::Embedding position_embedding_{nullptr};  // learned positions only
  torch::nn::ModuleList blocks_{nullptr};
  NormLayer ln_final_{nullptr};
};
TORCH_MODULE(TransformerTrunk);

// Trunk + language-model head: the policy and the frozen reference.
// `layer` applied to `x` through ATen's fused linear (one addmm with the
// bias); every linear layer of the models goes through it.
torch::Tensor ApplyLinear(const torch::nn::Linear& layer,
                          const torch::Tensor& x);

// Where `module`'s parameters live (the CPU for a module without any).
torch::Device ModuleDevice(const torch::nn::Module& module);

// Puts `module` in eval mode (no dropout) for a scope and gives it back its
// mode after. Every pass that scores or samples (rollout/, reward/, the
// critic's values in ppo/) runs under one, so that scores are deterministic
// whatever the model's dropout; training passes run in the mode the model
// was left in, train mode.
//
//   ScopedEvalMode scoring(*reward_model);
//   torch::Tensor scores = reward_model->Score(tokens, mask);
class ScopedEvalMode {
 public:
  explicit ScopedEvalMode(torch::nn::Module& module)
      : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~ScopedEvalMode() { module_.train(was_training_); }
  ScopedEvalMode(const ScopedEvalMode&) = delete;
  ScopedEvalMode& operator=(const ScopedEvalMode&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

class LanguageModelImpl : public torch::nn::Module {
 public:
  explicit LanguageModelImpl(const TransformerConfig& config);
  // Logits [B, T, vocab]; the cache as in TransformerTrunk::forward.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& mask,
                        KvStore* cache = nullptr);
  const TransformerConfig& config() const { return trunk_->config(); }

 private:
  TransformerTrunk trunk_{nullptr};
  torch::nn::Linear lm_head_{nullptr};  // null with tied embeddings
};
TORCH_MODULE(LanguageModel);

// Trunk + scalar head: the reward model (Score) and the critic (Values).
class ScalarModelImpl : public torch::nn::Module {
 public:
  explicit ScalarModelImpl(const TransformerConfig& config);
  // One value per position, [B, T] (the PPO critic).
  torch::Tensor Values(const torch::Tensor& tokens, const torch::Tensor& mask);
  // The value at each sequence's last real token, [B] (the reward).
  torch::Tensor Score(const torch::Tensor& tokens, const torch::Tensor& mask);
  const TransformerConfig& config() const { return trunk_->config(); }

 private:
  TransformerTrunk trunk_{nullptr};
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(ScalarModel);

// Index of each row's last real token: [B] (int64). Rows with no real token
// give 0.
torch::Tensor LastRealIndex(const torch::Tensor& mask);

}  // namespace metarm

#endif  // METARM_MODEL_TRANSFORMER_H_
