#include "model/decode_attention.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace metarm {
namespace {

// q·k over n elements with 8 running sums in a fixed order, so the compiler
// can vectorize it and the result does not depend on where k lives.
template <typename T>
T Dot(const T* q, const T* k, int64_t n) {
  T lanes[8] = {};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8) {
    for (int l = 0; l < 8; ++l) lanes[l] += q[d + l] * k[d + l];
  }
  for (int l = 0; d < n; ++d, ++l) lanes[l] += q[d] * k[d];
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// What one row's attention reads and writes.
template <typename T>
struct RowArgs {
  const T* q;              // [H, hd]
  const T* keys;           // storage, at offsets[j] + g · head_stride
  const T* values;         // alike
  const int64_t* offsets;  // [S]
  const T* bias;           // [S]
  T* out;                  // [H, hd]
};

// One row, every head: per head, scores over the allowed keys, their
// softmax and the weighted sum of the values. Keys are visited in position
// order with the heads innermost, so each stored key (all its heads side
// by side) is read once; each head's sums run over j in increasing order.
template <typename T>
void AttendRow(const RowArgs<T>& row, int64_t span, int64_t heads,
               int64_t group, int64_t head_stride, int64_t head_dim, T scale,
               std::vector<T>& scores, std::vector<T>& top,
               std::vector<T>& total) {
  constexpr T kMasked = -std::numeric_limits<T>::infinity();
  std::fill(top.begin(), top.end(), kMasked);
  for (int64_t j = 0; j < span; ++j) {
    if (row.bias[j] == kMasked) continue;
    const T* key = row.keys + row.offsets[j];
    for (int64_t h = 0; h < heads; ++h) {
      T& score = scores[h * span + j];
      score =
          Dot(row.q + h * head_dim, key + (h / group) * head_stride, head_dim) *
              scale +
          row.bias[j];
      top[h] = std::max(top[h], score);
    }
  }
  std::fill(total.begin(), total.end(), T(0));
  std::fill(row.out, row.out + heads * head_dim, T(0));
  for (int64_t j = 0; j < span; ++j) {
    if (row.bias[j] == kMasked) continue;
    const T* value = row.values + row.offsets[j];
    for (int64_t h = 0; h < heads; ++h) {
      const T weight = std::exp(scores[h * span + j] - top[h]);
      total[h] += weight;
      const T* v = value + (h / group) * head_stride;
      T* out = row.out + h * head_dim;
      for (int64_t d = 0; d < head_dim; ++d) out[d] += weight * v[d];
    }
  }
  for (int64_t h = 0; h < heads; ++h) {
    T* out = row.out + h * head_dim;
    for (int64_t d = 0; d < head_dim; ++d) out[d] /= total[h];
  }
}

// The largest element offset + 1 a tensor's sizes and strides reach.
int64_t Extent(const torch::Tensor& t) {
  int64_t last = 0;
  for (int64_t i = 0; i < t.dim(); ++i) {
    last += (t.size(i) - 1) * t.stride(i);
  }
  return last + 1;
}

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("DecodeAttention: " + what);
}

template <typename T>
torch::Tensor Attend(const torch::Tensor& q, const DecodeKeys& kv,
                     const torch::Tensor& bias) {
  const int64_t rows = q.size(0), heads = q.size(1), head_dim = q.size(3);
  const int64_t span = kv.offsets.size(1);
  const int64_t group = heads / kv.kv_heads;
  const torch::Tensor queries = q.contiguous();
  const torch::Tensor row_bias = bias.reshape({rows, span}).contiguous();
  const torch::Tensor offsets = kv.offsets.contiguous();
  torch::Tensor out = torch::empty({rows, heads, 1, head_dim}, q.options());
  const T* q_data = queries.data_ptr<T>();
  const T* b_data = row_bias.data_ptr<T>();
  const int64_t* o_data = offsets.data_ptr<int64_t>();
  T* out_data = out.data_ptr<T>();
  const T scale =
      static_cast<T>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  // Each row alone: the split over threads changes no number.
  at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> scores(heads * span), top(heads), total(heads);
    for (int64_t b = begin; b < end; ++b) {
      const RowArgs<T> row{q_data + b * heads * head_dim,
                           kv.keys.data_ptr<T>(),
                           kv.values.data_ptr<T>(),
                           o_data + b * span,
                           b_data + b * span,
                           out_data + b * heads * head_dim};
      AttendRow(row, span, heads, group, kv.head_stride, head_dim, scale,
                scores, top, total);
    }
  });
  return out;
}

}  // namespace

bool DecodeAttentionSupports(const torch::Tensor& like) {
  return like.device().is_cpu() && (like.scalar_type() == torch::kFloat32 ||
                                    like.scalar_type() == torch::kFloat64);
}

torch::Tensor DecodeAttention(const torch::Tensor& q, const DecodeKeys& kv,
                              const torch::Tensor& bias) {
  // Named in LibTorch's profiler traces (bench/generation_bench --profile).
  RECORD_FUNCTION("metarm::DecodeAttention", std::vector<c10::IValue>());
  Check(DecodeAttentionSupports(q), "float32 or float64 on the CPU only");
  Check(q.dim() == 4 && q.size(2) == 1, "q must be [B, H, 1, hd]");
  Check(kv.keys.scalar_type() == q.scalar_type() &&
            kv.values.scalar_type() == q.scalar_type() &&
            bias.scalar_type() == q.scalar_type(),
        "q, keys, values and bias of one dtype");
  Check(kv.keys.sizes() == kv.values.sizes() &&
            kv.keys.strides() == kv.values.strides(),
        "keys and values laid out alike");
  Check(kv.kv_heads >= 1 && q.size(1) % kv.kv_heads == 0,
        "query heads a multiple of kv_heads");
  Check(kv.offsets.dim() == 2 && kv.offsets.size(0) == q.size(0) &&
            kv.offsets.scalar_type() == torch::kInt64,
        "offsets must be [B, S] int64");
  Check(bias.numel() == kv.offsets.numel(), "bias must be [B, 1, 1, S]");
  // Every read stays inside the keys' extent.
  if (kv.offsets.numel() > 0) {
    const int64_t highest = kv.offsets.max().item<int64_t>() +
                            (kv.kv_heads - 1) * kv.head_stride + q.size(3);
    Check(kv.offsets.min().item<int64_t>() >= 0 && highest <= Extent(kv.keys),
          "offsets outside the keys");
  }
  if (q.scalar_type() == torch::kFloat64) return Attend<double>(q, kv, bias);
  return Attend<float>(q, kv, bias);
}

}  // namespace metarm
