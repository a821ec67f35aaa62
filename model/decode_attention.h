// Attention for a decode step (one new token per row) on the CPU, reading
// each row's keys and values where they are stored, without gathering them.
//
//   DecodeKeys kv{keys, values, offsets, head_stride};
//   torch::Tensor out = DecodeAttention(q, kv, bias);   // [B, H, 1, hd]
//
// Why: with one query per row the product is 2·B·H matrix-vector products
// over each row's own keys. Debian's LibTorch (no MKL) runs a batched
// matmul as one GEMM call per (row, head), and the paged KV cache would
// first have to gather every row's keys into a padded [B, S] tensor; at 64
// rows that is most of a decode step (docs/PERFORMANCE.md, "The generation
// engine"). Here each (row, head) reads its allowed keys in place, once.
//
// The arithmetic of a row depends only on its own query, its allowed keys
// and values in position order and their count: not on the other rows, the
// padding around it or where the keys are stored. So the generation engine
// (paged blocks) and the static sampler (a contiguous cache, left padding)
// compute the same numbers for the same sequence.
#ifndef METARM_MODEL_DECODE_ATTENTION_H_
#define METARM_MODEL_DECODE_ATTENTION_H_

#include <torch/torch.h>

#include <cstdint>

namespace metarm {

// Where a decode step's keys and values live: row b's key j, head g, is
// the head_dim elements (contiguous) starting offsets[b][j] + g·head_stride
// elements after keys.data_ptr() (values alike: same shape and strides).
struct DecodeKeys {
  torch::Tensor keys;
  torch::Tensor values;
  torch::Tensor offsets;  // [B, S] int64 on the CPU
  int64_t head_stride = 0;
  int64_t kv_heads = 0;
};

// Whether DecodeAttention takes tensors of this dtype and device (float32
// and float64 on the CPU).
bool DecodeAttentionSupports(const torch::Tensor& like);

// softmax(q kᵀ / sqrt(hd) + bias) v for q [B, H, 1, hd] and bias [B, 1, 1,
// S] (0 or -inf, at least one 0 per row): [B, H, 1, hd]. Query head h reads
// key head h / (H / kv_heads) (grouped-query attention). Keys whose bias is
// -inf are not read. No autograd: for sampling under torch::NoGradGuard.
torch::Tensor DecodeAttention(const torch::Tensor& q, const DecodeKeys& kv,
                              const torch::Tensor& bias);

}  // namespace metarm

#endif  // METARM_MODEL_DECODE_ATTENTION_H_
