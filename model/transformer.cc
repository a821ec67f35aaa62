#include "model/transformer.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "model/activation_checkpoint.h"
#include "model/attention.h"
#include "model/mixed_precision.h"

namespace metarm {
namespace {

namespace F = torch::nn::functional;

// GPT-2 initialisation: N(0, 0.02) weights, zero biases; the projections back
// into the residual stream scaled by 1/sqrt(2 * layers) so the residual's
// variance does not grow with depth.
void InitLinear(torch::nn::Linear& linear, double std) {
  torch::NoGradGuard no_grad;
  linear->weight.normal_(0.0, std);
  if (linear->bias.defined()) linear->bias.zero_();
}

double ResidualStd(const TransformerConfig& config) {
  return 0.02 / std::sqrt(2.0 * config.n_layers);
}

// Positions count real tokens: cumsum(mask) - 1, floored at 0 for padding.
torch::Tensor PositionsFromMask(const torch::Tensor& mask) {
  return (mask.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
}

// Additive attention bias [B, 1, T, S] for T queries at the end of S keys: a
// query may see a key that is real and not in its future, and always itself
// (so a padding query still has one key and softmax stays finite).
torch::Tensor AttentionBias(const torch::Tensor& key_mask, int64_t queries,
                            torch::ScalarType dtype) {
  const int64_t keys = key_mask.size(1);
  const int64_t past = keys - queries;
  auto options = torch::TensorOptions().device(key_mask.device());
  torch::Tensor query_index =
      torch::arange(past, keys, options.dtype(torch::kInt64)).unsqueeze(1);
  torch::Tensor key_index =
      torch::arange(keys, options.dtype(torch::kInt64)).unsqueeze(0);
  torch::Tensor causal = key_index <= query_index;              // [T, S]
  torch::Tensor real = key_mask.to(torch::kBool).unsqueeze(1);  // [B, 1, S]
  torch::Tensor allowed = (causal.unsqueeze(0) & real) |
                          (key_index == query_index).unsqueeze(0);  // [B,T,S]
  torch::Tensor bias = torch::zeros(allowed.sizes(), options.dtype(dtype));
  bias.masked_fill_(allowed.logical_not(),
                    -std::numeric_limits<double>::infinity());
  return bias.unsqueeze(1);
}

// Llama 3's rope scaling of the inverse frequencies (TransformerConfig::
// RopeScaling): with wavelength λ = 2π / f, f is kept where λ is shorter
// than L / high_freq_factor, divided by `factor` where λ is longer than
// L / low_freq_factor (L = original_max_positions), and in between
// (1 − s) f / factor + s f with s = (L / λ − low) / (high − low).
torch::Tensor ScaleFrequencies(const torch::Tensor& f,
                               const TransformerConfig::RopeScaling& scaling) {
  if (scaling.factor <= 0) return f;
  const double low = scaling.low_freq_factor, high = scaling.high_freq_factor;
  const double length = scaling.original_max_positions;
  torch::Tensor wavelength = 2 * M_PI / f;
  torch::Tensor smooth = (length / wavelength - low) / (high - low);
  torch::Tensor between = (1 - smooth) * f / scaling.factor + smooth * f;
  return torch::where(
      wavelength < length / high, f,
      torch::where(wavelength > length / low, f / scaling.factor, between));
}

// Rotary embedding angles for `positions` [B, T]: cos, sin [B, 1, T, hd/2];
// frequency i is theta^(-2i/head_dim), then scaled (ScaleFrequencies).
std::pair<torch::Tensor, torch::Tensor> RotaryAngles(
    const torch::Tensor& positions, int64_t head_dim, double theta,
    const TransformerConfig::RopeScaling& scaling, torch::ScalarType dtype) {
  auto options = torch::TensorOptions().device(positions.device()).dtype(dtype);
  torch::Tensor inverse_frequency = ScaleFrequencies(
      torch::pow(theta, -torch::arange(0, head_dim, 2, options) / head_dim),
      scaling);
  torch::Tensor angles =
      positions.to(dtype).unsqueeze(-1) * inverse_frequency;  // [B, T, hd/2]
  return {angles.cos().unsqueeze(1), angles.sin().unsqueeze(1)};
}

// Rotates the two halves of the head dimension by the angles ("rotate half").
torch::Tensor ApplyRotary(const torch::Tensor& x, const torch::Tensor& cos,
                          const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  torch::Tensor x1 = x.narrow(-1, 0, half);
  torch::Tensor x2 = x.narrow(-1, half, half);
  return torch::cat({x1 * cos - x2 * sin, x1 * sin + x2 * cos}, -1);
}

}  // namespace

int64_t KvCache::bytes() const {
  int64_t total = 0;
  for (const torch::Tensor& k : keys) total += k.numel() * k.element_size();
  for (const torch::Tensor& v : values) total += v.numel() * v.element_size();
  return total;
}

KvStore::Step KvCache::Begin(const torch::Tensor& new_mask,
                             torch::ScalarType dtype) {
  const int64_t past = length();
  const int64_t added = new_mask.size(1);
  mask = past > 0 ? torch::cat({mask, new_mask.to(mask.dtype())}, 1) : new_mask;
  return {PositionsFromMask(mask).narrow(1, past, added),
          AttentionBias(mask, added, dtype), past + added};
}

std::pair<torch::Tensor, torch::Tensor> KvCache::Store(
    int64_t layer, const torch::Tensor& new_keys,
    const torch::Tensor& new_values) {
  if (static_cast<int64_t>(keys.size()) <= layer) {
    keys.resize(layer + 1);
    values.resize(layer + 1);
  }
  torch::Tensor& k = keys[layer];
  torch::Tensor& v = values[layer];
  k = k.defined() ? torch::cat({k, new_keys}, 2) : new_keys;
  v = v.defined() ? torch::cat({v, new_values}, 2) : new_values;
  return {k, v};
}

std::optional<DecodeKeys> KvCache::StoreForDecode(
    int64_t layer, const torch::Tensor& new_keys,
    const torch::Tensor& new_values) {
  if (!DecodeAttentionSupports(new_keys)) return std::nullopt;
  auto [k, v] = Store(layer, new_keys, new_values);
  if (k.stride(3) != 1 || v.strides() != k.strides()) {
    keys[layer] = k = k.contiguous();
    values[layer] = v = v.contiguous();
  }
  // Row b's key j starts b·stride(0) + j·stride(2) elements in.
  const int64_t rows = k.size(0), span = k.size(2);
  torch::Tensor offsets =
      torch::arange(rows, torch::kInt64).mul_(k.stride(0)).unsqueeze(1) +
      torch::arange(span, torch::kInt64).mul_(k.stride(2)).unsqueeze(0);
  return DecodeKeys{k, v, offsets, k.stride(1), k.size(1)};
}

NormLayerImpl::NormLayerImpl(const TransformerConfig& config)
    : kind_(config.norm), eps_(config.norm_eps) {
  weight_ = register_parameter("weight", torch::ones({config.d_model}));
  if (kind_ == NormKind::kLayerNorm) {
    bias_ = register_parameter("bias", torch::zeros({config.d_model}));
  }
}

torch::Tensor NormLayerImpl::forward(const torch::Tensor& x) {
  if (kind_ == NormKind::kLayerNorm) {
    return F::layer_norm(x, F::LayerNormFuncOptions({x.size(-1)})
                                .weight(weight_)
                                .bias(bias_)
                                .eps(eps_));
  }
  // RMSNorm, computed in float32 whatever the activations' type.
  torch::Tensor x32 = x.to(torch::kFloat32);
  torch::Tensor normed = x32 * torch::rsqrt(x32.pow(2).mean(-1, true) + eps_);
  return weight_ * normed.to(x.scalar_type());
}

namespace {

torch::nn::Linear MakeLinear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

}  // namespace

// ATen's linear, not the module's forward: the C++ frontend's
// torch::nn::functional::linear computes a 3-D input as matmul, then adds
// the bias, where ATen's fuses both into one addmm (the same GEMM Python
// calls); the learner's steps ran 10-40 % slower than the Python peer
// without it (bench/, docs/PERFORMANCE.md).
torch::Tensor ApplyLinear(const torch::nn::Linear& layer,
                          const torch::Tensor& x) {
  return at::linear(x, layer->weight,
                    layer->bias.defined()
                        ? c10::optional<at::Tensor>(layer->bias)
                        : c10::nullopt);
}

namespace {}  // namespace

CausalSelfAttentionImpl::CausalSelfAttentionImpl(
    const TransformerConfig& config)
    : n_heads_(config.n_heads),
      kv_heads_(config.kv_heads()),
      head_dim_(config.head_dim()),
      fused_(config.fused_attention && FusedAttentionAvailable()),
      dropout_p_(config.dropout) {
  qkv_ = register_module(
      "qkv", MakeLinear(config.d_model, (n_heads_ + 2 * kv_heads_) * head_dim_,
                        config.bias || config.qkv_bias));
  out_ = register_module(
      "out", MakeLinear(n_heads_ * head_dim_, config.d_model, config.bias));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.dropout));
  InitLinear(qkv_, 0.02);
  InitLinear(out_, ResidualStd(config));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x,
                                               const torch::Tensor& bias,
                                               const torch::Tensor& cos,
                                               const torch::Tensor& sin,
                                               KvStore* store, int64_t layer) {
  const int64_t batch = x.size(0);
  const int64_t length = x.size(1);
  torch::Tensor q, k, v;
  if (kv_heads_ == n_heads_) {
    // [B, T, 3, H, hd] -> 3 x [B, H, T, hd]
    torch::Tensor qkv = ApplyLinear(qkv_, x)
                            .view({batch, length, 3, n_heads_, head_dim_})
                            .permute({2, 0, 3, 1, 4});
    q = qkv[0];
    k = qkv[1];
    v = qkv[2];
  } else {
    std::vector<torch::Tensor> parts = ApplyLinear(qkv_, x).split_with_sizes(
        {n_heads_ * head_dim_, kv_heads_ * head_dim_, kv_heads_ * head_dim_},
        -1);
    auto heads = [&](const torch::Tensor& t, int64_t n) {
      return t.view({batch, length, n, head_dim_}).transpose(1, 2);
    };
    q = heads(parts[0], n_heads_);
    k = heads(parts[1], kv_heads_);
    v = heads(parts[2], kv_heads_);
  }
  if (cos.defined()) {
    q = ApplyRotary(q, cos, sin);
    k = ApplyRotary(k, cos, sin);
  }
  if (store != nullptr && length == 1 && !is_training() &&
      !torch::GradMode::is_enabled()) {
    // A sampling step: attend over the stored keys in place.
    if (std::optional<DecodeKeys> stored = store->StoreForDecode(layer, k, v)) {
      torch::Tensor attended = DecodeAttention(q, *stored, bias);
      return ApplyLinear(out_,
                         attended.transpose(1, 2).reshape({batch, 1, -1}));
    }
  }
  if (store != nullptr) std::tie(k, v) = store->Store(layer, k, v);
  if (kv_heads_ != n_heads_) {
    // Each key/value head serves n_heads / kv_heads query heads; the cache
    // keeps the kv_heads only.
    k = k.repeat_interleave(n_heads_ / kv_heads_, 1);
    v = v.repeat_interleave(n_heads_ / kv_heads_, 1);
  }
  // softmax(q k^T / sqrt(hd) + bias) v: [B, H, T, hd]
  torch::Tensor attended =
      fused_ ? FusedAttention(q, k, v, bias, is_training() ? dropout_p_ : 0.0)
             : ExplicitAttention(q, k, v, bias, dropout_);
  return ApplyLinear(out_,
                     attended.transpose(1, 2).reshape({batch, length, -1}));
}

TransformerBlockImpl::TransformerBlockImpl(const TransformerConfig& config)
    : mlp_kind_(config.mlp) {
  ln_attention_ = register_module("ln_attention", NormLayer(config));
  attention_ = register_module("attention", CausalSelfAttention(config));
  ln_mlp_ = register_module("ln_mlp", NormLayer(config));
  const int64_t mlp_width =
      config.mlp == MlpKind::kSwiGlu ? 2 * config.d_ff : config.d_ff;
  mlp_in_ = register_module("mlp_in",
                            MakeLinear(config.d_model, mlp_width, config.bias));
  mlp_out_ = register_module(
      "mlp_out", MakeLinear(config.d_ff, config.d_model, config.bias));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.dropout));
  InitLinear(mlp_in_, 0.02);
  InitLinear(mlp_out_, ResidualStd(config));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x,
                                            const torch::Tensor& bias,
                                            const torch::Tensor& cos,
                                            const torch::Tensor& sin,
                                            KvStore* store, int64_t layer) {
  torch::Tensor h =
      x + dropout_(attention_(ln_attention_(x), bias, cos, sin, store, layer));
  return h +
         dropout_(ApplyLinear(mlp_out_, Mlp(ApplyLinear(mlp_in_, ln_mlp_(h)))));
}

torch::Tensor TransformerBlockImpl::Mlp(const torch::Tensor& x) {
  switch (mlp_kind_) {
    case MlpKind::kGeluTanh:
      return F::gelu(x, F::GELUFuncOptions().approximate("tanh"));
    case MlpKind::kSwiGlu: {
      std::vector<torch::Tensor> gate_up = x.chunk(2, -1);
      return F::silu(gate_up[0]) * gate_up[1];
    }
    default:
      return F::gelu(x);
  }
}

TransformerTrunkImpl::TransformerTrunkImpl(const TransformerConfig& config)
    : config_(config) {
  token_embedding_ =
      register_module("token_embedding",
                      torch::nn::Embedding(config.vocab_size, config.d_model));
  if (!config.rotary) {
    position_embedding_ = register_module(
        "position_embedding",
        torch::nn::Embedding(config.max_seq_len, config.d_model));
  }
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.n_layers; ++i) {
    blocks_->push_back(TransformerBlock(config));
  }
  ln_final_ = register_module("ln_final", NormLayer(config));
  torch::NoGradGuard no_grad;
  token_embedding_->weight.normal_(0.0, 0.02);
  if (position_embedding_) position_embedding_->weight.normal_(0.0, 0.01);
}

torch::Tensor TransformerTrunkImpl::forward(const torch::Tensor& tokens,
                                            const torch::Tensor& mask,
                                            KvStore* cache) {
  const int64_t length = tokens.size(1);
  torch::Tensor x = token_embedding_(tokens);
  KvStore::Step step;
  if (cache != nullptr) {
    step = cache->Begin(mask, x.scalar_type());
  } else {
    step = {PositionsFromMask(mask),
            AttentionBias(mask, length, x.scalar_type()), length};
  }
  if (step.length > config_.max_seq_len) {
    throw std::invalid_argument(
        "sequence of " + std::to_string(step.length) +
        " tokens is longer than the model's max_seq_len " +
        std::to_string(config_.max_seq_len));
  }
  torch::Tensor cos, sin;
  if (config_.rotary) {
    std::tie(cos, sin) =
        RotaryAngles(step.positions, config_.head_dim(), config_.rope_theta,
                     config_.rope_scaling, x.scalar_type());
  } else {
    x = x + position_embedding_(step.positions);
  }
  const torch::Tensor& bias = step.bias;
  for (int64_t i = 0; i < config_.n_layers; ++i) {
    std::shared_ptr<TransformerBlockImpl> block =
        blocks_->ptr<TransformerBlockImpl>(i);
    if (config_.activation_checkpointing && cache == nullptr) {
      // Only the block's input is kept; the block (held by the closure)
      // runs again in the backward pass.
      x = Checkpointed(
          [block, bias, cos, sin](const torch::Tensor& input) {
            return block->forward(input, bias, cos, sin, nullptr, 0);
          },
          x, block->parameters());
    } else {
      x = block->forward(x, bias, cos, sin, cache, i);
    }
  }
  return ln_final_(x);
}

LanguageModelImpl::LanguageModelImpl(const TransformerConfig& config) {
  trunk_ = register_module("trunk", TransformerTrunk(config));
  if (config.tie_embeddings) return;
  lm_head_ = register_module(
      "lm_head", torch::nn::Linear(
                     torch::nn::LinearOptions(config.d_model, config.vocab_size)
                         .bias(false)));
  InitLinear(lm_head_, 0.02);
}

torch::Tensor LanguageModelImpl::forward(const torch::Tensor& tokens,
                                         const torch::Tensor& mask,
                                         KvStore* cache) {
  ScopedAutocast autocast(tokens.device(), config().bf16);
  torch::Tensor hidden = trunk_(tokens, mask, cache);
  // Logits in float32 whatever the compute precision: the log-probabilities
  // and the KL are taken from them.
  return AtLeastFloat32(
      lm_head_ ? ApplyLinear(lm_head_, hidden)
               : F::linear(hidden, trunk_->token_embedding_weight()));
}

ScalarModelImpl::ScalarModelImpl(const TransformerConfig& config) {
  trunk_ = register_module("trunk", TransformerTrunk(config));
  head_ = register_module("head", torch::nn::Linear(config.d_model, 1));
  InitLinear(head_, 0.02);
}

torch::Tensor ScalarModelImpl::Values(const torch::Tensor& tokens,
                                      const torch::Tensor& mask) {
  ScopedAutocast autocast(tokens.device(), config().bf16);
  return AtLeastFloat32(ApplyLinear(head_, trunk_(tokens, mask)).squeeze(-1));
}

torch::Tensor ScalarModelImpl::Score(const torch::Tensor& tokens,
                                     const torch::Tensor& mask) {
  torch::Tensor values = Values(tokens, mask);  // [B, T]
  return values.gather(1, LastRealIndex(mask).unsqueeze(1)).squeeze(1);
}

torch::Tensor LastRealIndex(const torch::Tensor& mask) {
  // argmax of (position where real) picks the last real index; rows with no
  // real token give 0.
  torch::Tensor index =
      torch::arange(mask.size(1), mask.options().dtype(torch::kInt64));
  return (mask.to(torch::kInt64) * (index + 1)).argmax(1);
}

torch::Device ModuleDevice(const torch::nn::Module& module) {
  std::vector<torch::Tensor> parameters = module.parameters();
  return parameters.empty() ? torch::Device(torch::kCPU)
                            : parameters.front().device();
}

}  // namespace metarm
