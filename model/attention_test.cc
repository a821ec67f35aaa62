// The fused attention (LibTorch's scaled_dot_product_attention; in Debian's
// 1.13 its private forerunner) against the explicit product, with the
// arguments the models pass: padding and causal masks as an additive bias,
// decode steps against a longer key cache, and their gradients.
#include "model/attention.h"

#include <limits>

#include "gtest/gtest.h"

namespace metarm {
namespace {

// [B, 1, T, S]: causal over S keys of which the last T are the queries,
// with row 1's first 3 keys padding (each query keeps at least itself).
torch::Tensor Bias(int64_t queries, int64_t keys) {
  torch::Tensor allowed =
      torch::ones({queries, keys}, torch::kBool).tril(keys - queries);
  allowed = allowed.unsqueeze(0).repeat({2, 1, 1});
  allowed[1].narrow(1, 0, 3).fill_(false);
  allowed[1].narrow(1, keys - queries, queries) |=
      torch::eye(queries, torch::kBool);
  torch::Tensor bias = torch::zeros({2, queries, keys}, torch::kFloat64);
  bias.masked_fill_(allowed.logical_not(),
                    -std::numeric_limits<double>::infinity());
  return bias.unsqueeze(1);
}

void ExpectSame(int64_t queries, int64_t keys) {
  torch::manual_seed(queries * 100 + keys);
  auto make = [](int64_t length) {
    return torch::randn({2, 3, length, 8}, torch::kFloat64).requires_grad_();
  };
  torch::Tensor q = make(queries), k = make(keys), v = make(keys);
  torch::Tensor bias = Bias(queries, keys);
  torch::nn::Dropout no_dropout(0.0);
  torch::Tensor explicit_out = ExplicitAttention(q, k, v, bias, no_dropout);
  torch::Tensor fused_out = FusedAttention(q, k, v, bias, 0.0);
  EXPECT_LT((explicit_out - fused_out).abs().max().item<double>(), 1e-10)
      << queries << " queries, " << keys << " keys";
  torch::Tensor weights = torch::randn_like(explicit_out);
  std::vector<torch::Tensor> a =
      torch::autograd::grad({explicit_out}, {q, k, v}, {weights});
  std::vector<torch::Tensor> b =
      torch::autograd::grad({fused_out}, {q, k, v}, {weights});
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT((a[i] - b[i]).abs().max().item<double>(), 1e-10)
        << "gradient " << i << ", " << queries << " queries";
  }
}

TEST(AttentionTest, FusedEqualsExplicitOnAWholeSequence) { ExpectSame(7, 7); }

TEST(AttentionTest, FusedEqualsExplicitOnDecodeSteps) {
  ExpectSame(1, 9);  // one new token against the cache
  ExpectSame(3, 9);
}

TEST(AttentionTest, AvailabilityFollowsTheLibTorch) {
#if defined(TORCH_VERSION_MAJOR)
  EXPECT_EQ(FusedAttentionAvailable(), TORCH_VERSION_MAJOR >= 2);
#else
  // Debian's 1.13 (no torch/version.h): the explicit path.
  EXPECT_FALSE(FusedAttentionAvailable());
#endif
}

}  // namespace
}  // namespace metarm
