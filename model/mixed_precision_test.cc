// bf16 compute on float32 weights (autocast) against the float32 model with
// the same weights: float32 outputs within bf16's rounding, float32
// gradients close to float32's, the KV cache's logits equal to the full
// pass's, activation checkpointing replaying bf16 exactly, and autocast
// switched off again after every pass.
#include "model/mixed_precision.h"

#include <ATen/autocast_mode.h>

#include "gtest/gtest.h"
#include "model/transformer.h"

namespace metarm {
namespace {

TransformerConfig Config(bool bf16, bool checkpointing = false) {
  TransformerConfig config;
  config.vocab_size = 31;
  config.d_model = 64;
  config.n_layers = 2;
  config.n_heads = 4;
  config.d_ff = 128;
  config.max_seq_len = 16;
  config.bf16 = bf16;
  config.activation_checkpointing = checkpointing;
  return config;
}

template <typename Model>
Model Make(bool bf16, bool checkpointing = false) {
  torch::manual_seed(3);
  return Model(Config(bf16, checkpointing));
}

std::pair<torch::Tensor, torch::Tensor> Batch() {
  torch::manual_seed(4);
  torch::Tensor tokens = torch::randint(1, 31, {3, 12}, torch::kInt64);
  torch::Tensor mask = torch::ones({3, 12}, torch::kInt64);
  mask[2].narrow(0, 0, 5).zero_();
  return {tokens * mask, mask};
}

double RelativeDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).norm() / b.norm()).item<double>();
}

TEST(MixedPrecisionTest, Bf16LogitsAreFloat32AndCloseToFloat32) {
  auto [tokens, mask] = Batch();
  LanguageModel fp32 = Make<LanguageModel>(false);
  LanguageModel bf16 = Make<LanguageModel>(true);
  torch::Tensor expected = fp32->forward(tokens, mask);
  torch::Tensor got = bf16->forward(tokens, mask);
  EXPECT_EQ(got.scalar_type(), torch::kFloat32);
  for (const torch::Tensor& p : bf16->parameters()) {
    EXPECT_EQ(p.scalar_type(), torch::kFloat32) << "master weights";
  }
  const double difference = RelativeDifference(got, expected);
  EXPECT_LT(difference, 2e-2);
  EXPECT_GT(difference, 0) << "bf16 was not used";
  EXPECT_FALSE(at::autocast::is_cpu_enabled()) << "autocast left on";
}

TEST(MixedPrecisionTest, Bf16GradientsAreFloat32AndClose) {
  auto [tokens, mask] = Batch();
  std::vector<std::vector<torch::Tensor>> grads;
  for (bool bf16 : {false, true}) {
    ScalarModel model = Make<ScalarModel>(bf16);
    model->Score(tokens, mask).pow(2).sum().backward();
    std::vector<torch::Tensor> g;
    for (const torch::Tensor& p : model->parameters()) g.push_back(p.grad());
    grads.push_back(g);
  }
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_EQ(grads[1][i].scalar_type(), torch::kFloat32);
    if (grads[0][i].norm().item<double>() < 1e-6) continue;  // e.g. key bias
    EXPECT_LT(RelativeDifference(grads[1][i], grads[0][i]), 5e-2)
        << "parameter " << i;
  }
}

// Decoding with the cache (bf16 keys and values) gives the logits of the
// full pass over the same tokens, within bf16's rounding.
TEST(MixedPrecisionTest, Bf16KvCacheMatchesTheFullPass) {
  auto [tokens, mask] = Batch();
  LanguageModel model = Make<LanguageModel>(true);
  torch::NoGradGuard no_grad;
  torch::Tensor full = model->forward(tokens, mask);
  KvCache cache;
  torch::Tensor prefix =
      model->forward(tokens.narrow(1, 0, 8), mask.narrow(1, 0, 8), &cache);
  std::vector<torch::Tensor> steps = {prefix};
  for (int64_t t = 8; t < 12; ++t) {
    steps.push_back(
        model->forward(tokens.narrow(1, t, 1), mask.narrow(1, t, 1), &cache));
  }
  EXPECT_EQ(cache.keys[0].scalar_type(), torch::kBFloat16);
  EXPECT_LT(RelativeDifference(torch::cat(steps, 1), full), 2e-2);
}

// Checkpointing recomputes the blocks in bf16 too: the same gradients as
// the bf16 model that keeps its activations.
TEST(MixedPrecisionTest, CheckpointingReplaysBf16) {
  auto [tokens, mask] = Batch();
  std::vector<std::vector<torch::Tensor>> grads;
  for (bool checkpointing : {false, true}) {
    LanguageModel model = Make<LanguageModel>(true, checkpointing);
    torch::log_softmax(model->forward(tokens, mask), -1)
        .select(2, 5)
        .sum()
        .backward();
    std::vector<torch::Tensor> g;
    for (const torch::Tensor& p : model->parameters()) g.push_back(p.grad());
    grads.push_back(g);
  }
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_LT((grads[0][i] - grads[1][i]).abs().max().item<double>(), 1e-6)
        << "parameter " << i;
  }
}

TEST(MixedPrecisionTest, AtLeastFloat32KeepsWiderTypes) {
  EXPECT_EQ(AtLeastFloat32(torch::ones({2}, torch::kBFloat16)).scalar_type(),
            torch::kFloat32);
  EXPECT_EQ(AtLeastFloat32(torch::ones({2}, torch::kFloat64)).scalar_type(),
            torch::kFloat64);
  EXPECT_EQ(AtLeastFloat32(torch::ones({2}, torch::kFloat32)).scalar_type(),
            torch::kFloat32);
}

}  // namespace
}  // namespace metarm
