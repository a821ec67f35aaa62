// DecodeAttention against the explicit product (model/attention.h), and the
// property the generation engine relies on: a row's output is bit for bit
// the same wherever its keys are stored and whatever rows and padding
// surround it.
#include "model/decode_attention.h"

#include <limits>
#include <stdexcept>

#include "gtest/gtest.h"
#include "model/attention.h"

namespace metarm {
namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

// Keys [B, kv, S, hd] contiguous, as DecodeKeys.
DecodeKeys Contiguous(const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t rows = k.size(0), span = k.size(2);
  torch::Tensor offsets =
      torch::arange(rows, torch::kInt64).mul_(k.stride(0)).unsqueeze(1) +
      torch::arange(span, torch::kInt64).mul_(k.stride(2)).unsqueeze(0);
  return {k, v, offsets, k.stride(1), k.size(1)};
}

// [B, 1, 1, S]: row b may not see its first padding[b] keys.
torch::Tensor Bias(const std::vector<int64_t>& padding, int64_t span,
                   torch::ScalarType dtype) {
  torch::Tensor bias =
      torch::zeros({static_cast<int64_t>(padding.size()), 1, 1, span}, dtype);
  for (size_t b = 0; b < padding.size(); ++b) {
    bias[b].narrow(-1, 0, padding[b]).fill_(kMinusInfinity);
  }
  return bias;
}

void ExpectMatchesExplicit(torch::ScalarType dtype, int64_t heads,
                           int64_t kv_heads, double tolerance) {
  torch::manual_seed(heads * 10 + kv_heads);
  const int64_t rows = 3, span = 21, head_dim = 12;
  auto options = torch::TensorOptions().dtype(dtype);
  torch::Tensor q = torch::randn({rows, heads, 1, head_dim}, options);
  torch::Tensor k = torch::randn({rows, kv_heads, span, head_dim}, options);
  torch::Tensor v = torch::randn({rows, kv_heads, span, head_dim}, options);
  torch::Tensor bias = Bias({0, 5, 20}, span, dtype);
  torch::nn::Dropout no_dropout(0.0);
  const int64_t group = heads / kv_heads;
  torch::Tensor expected =
      ExplicitAttention(q, k.repeat_interleave(group, 1),
                        v.repeat_interleave(group, 1), bias, no_dropout);
  torch::Tensor got = DecodeAttention(q, Contiguous(k, v), bias);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LT((got - expected).abs().max().item<double>(), tolerance)
      << heads << " heads, " << kv_heads << " key heads";
}

TEST(DecodeAttentionTest, MatchesTheExplicitProductInFloat64) {
  ExpectMatchesExplicit(torch::kFloat64, 4, 4, 1e-12);
}

TEST(DecodeAttentionTest, MatchesTheExplicitProductInFloat32) {
  ExpectMatchesExplicit(torch::kFloat32, 4, 4, 1e-5);
}

TEST(DecodeAttentionTest, MatchesTheExplicitProductWithGroupedQueries) {
  ExpectMatchesExplicit(torch::kFloat64, 6, 2, 1e-12);
}

// Row 0 alone with its 9 keys contiguous, against the same row as row 1 of
// a batch whose keys sit in scattered slots of a pool ([slots, kv, hd]),
// behind 4 padding keys and followed by 6 more beyond its end.
TEST(DecodeAttentionTest, ARowsNumbersDoNotDependOnItsSurroundings) {
  torch::manual_seed(3);
  const int64_t heads = 4, head_dim = 16, length = 9;
  torch::Tensor q = torch::randn({1, heads, 1, head_dim});
  torch::Tensor k = torch::randn({1, heads, length, head_dim});
  torch::Tensor v = torch::randn({1, heads, length, head_dim});
  torch::Tensor alone =
      DecodeAttention(q, Contiguous(k, v), Bias({0}, length, torch::kFloat32));

  const int64_t slots = 64, span = 4 + length + 6;
  torch::Tensor pool_k = torch::randn({slots, heads, head_dim});
  torch::Tensor pool_v = torch::randn({slots, heads, head_dim});
  torch::Tensor order = torch::randperm(slots, torch::kInt64);
  torch::Tensor offsets =
      order.narrow(0, 0, 2 * span).view({2, span}) * pool_k.stride(0);
  for (int64_t j = 0; j < length; ++j) {
    const int64_t slot = offsets[1][4 + j].item<int64_t>() / pool_k.stride(0);
    pool_k[slot].copy_(k[0].select(1, j));
    pool_v[slot].copy_(v[0].select(1, j));
  }
  torch::Tensor bias = Bias({2, 4}, span, torch::kFloat32);
  bias[1].narrow(-1, 4 + length, 6).fill_(kMinusInfinity);
  torch::Tensor batch_q = torch::cat({torch::randn_like(q), q});
  torch::Tensor in_batch = DecodeAttention(
      batch_q, {pool_k, pool_v, offsets, pool_k.stride(1), heads}, bias);
  EXPECT_TRUE(torch::equal(in_batch[1], alone[0]));
}

TEST(DecodeAttentionTest, RefusesOffsetsOutsideTheKeys) {
  torch::Tensor q = torch::randn({1, 2, 1, 4});
  torch::Tensor k = torch::randn({1, 2, 3, 4});
  DecodeKeys kv = Contiguous(k, k);
  kv.offsets[0][2] = k.numel();
  EXPECT_THROW(DecodeAttention(q, kv, Bias({0}, 3, torch::kFloat32)),
               std::invalid_argument);
}

}  // namespace
}  // namespace metarm
