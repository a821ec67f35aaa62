// Activation checkpointing against the plain model (float64): the same
// outputs, the same gradients by backward() and by autograd::grad, the same
// Hessian-vector products by double backward (MetaRM's exact step), the same
// dropout masks, and the blocks' activations not kept.
#include "model/activation_checkpoint.h"

#include <optional>

#include "gtest/gtest.h"
#include "model/transformer.h"

namespace metarm {
namespace {

TransformerConfig Config(bool checkpointing, double dropout = 0.0) {
  TransformerConfig config;
  config.vocab_size = 17;
  config.d_model = 16;
  config.n_layers = 3;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 12;
  config.dropout = dropout;
  config.activation_checkpointing = checkpointing;
  return config;
}

template <typename Model>
Model Make(bool checkpointing, double dropout = 0.0) {
  torch::manual_seed(7);
  Model model(Config(checkpointing, dropout));
  model->to(torch::kFloat64);
  return model;
}

// Left-padded rows of different lengths.
std::pair<torch::Tensor, torch::Tensor> Batch() {
  torch::manual_seed(11);
  torch::Tensor tokens = torch::randint(1, 17, {4, 10}, torch::kInt64);
  torch::Tensor mask = torch::ones({4, 10}, torch::kInt64);
  mask[1].narrow(0, 0, 3).zero_();
  mask[3].narrow(0, 0, 6).zero_();
  return {tokens * mask, mask};
}

double MaxDifference(const std::vector<torch::Tensor>& a,
                     const std::vector<torch::Tensor>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  }
  return worst;
}

std::vector<torch::Tensor> Grads(torch::nn::Module& module) {
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : module.parameters()) grads.push_back(p.grad());
  return grads;
}

TEST(ActivationCheckpointTest, LanguageModelGradientsByBackward) {
  auto [tokens, mask] = Batch();
  LanguageModel plain = Make<LanguageModel>(false);
  LanguageModel checkpointed = Make<LanguageModel>(true);
  torch::Tensor a = plain->forward(tokens, mask);
  torch::Tensor b = checkpointed->forward(tokens, mask);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-12);
  ASSERT_NE(b.grad_fn(), nullptr);
  torch::log_softmax(a, -1).select(2, 3).sum().backward();
  torch::log_softmax(b, -1).select(2, 3).sum().backward();
  const std::vector<torch::Tensor> expected = Grads(*plain);
  EXPECT_LT(MaxDifference(expected, Grads(*checkpointed)), 1e-10);
  double largest = 0;
  for (const torch::Tensor& g : expected) {
    largest = std::max(largest, g.abs().max().item<double>());
  }
  EXPECT_GT(largest, 1e-3) << "the gradients are not trivially zero";
}

// The reward model's MetaRM step: ∇J by autograd::grad, then H_J v by
// double backward through the recomputed blocks.
TEST(ActivationCheckpointTest, ScalarModelGradAndHessianVector) {
  auto [tokens, mask] = Batch();
  std::vector<std::vector<torch::Tensor>> grads, products;
  for (bool checkpointing : {false, true}) {
    ScalarModel model = Make<ScalarModel>(checkpointing);
    std::vector<torch::Tensor> parameters = model->parameters();
    torch::Tensor scores = model->Score(tokens, mask);
    torch::Tensor j =
        torch::sigmoid(scores.unsqueeze(1) - scores.unsqueeze(0)).pow(2).sum();
    std::vector<torch::Tensor> g =
        torch::autograd::grad({j}, parameters, {}, true, true, true);
    torch::manual_seed(3);
    std::vector<torch::Tensor> v;
    for (const torch::Tensor& p : parameters) v.push_back(torch::randn_like(p));
    std::vector<torch::Tensor> used_g, used_v, used_p;
    for (size_t i = 0; i < g.size(); ++i) {
      if (g[i].defined()) {
        used_g.push_back(g[i]);
        used_v.push_back(v[i]);
      }
    }
    std::vector<torch::Tensor> hv = torch::autograd::grad(
        used_g, parameters, used_v, false, false, /*allow_unused=*/true);
    for (torch::Tensor& t : hv) {
      if (!t.defined()) t = torch::zeros({1}, torch::kFloat64);
    }
    grads.push_back(used_g);
    products.push_back(hv);
  }
  EXPECT_LT(MaxDifference(grads[0], grads[1]), 1e-10);
  EXPECT_LT(MaxDifference(products[0], products[1]), 1e-10);
  double largest = 0;
  for (const torch::Tensor& t : products[0]) {
    largest = std::max(largest, t.abs().max().item<double>());
  }
  EXPECT_GT(largest, 1e-4) << "the Hessian-vector product is not zero";
}

// Dropout draws the same masks in the recomputation as in the forward pass:
// with the same seed, the checkpointed model's gradients are the plain
// model's.
TEST(ActivationCheckpointTest, DropoutMasksAreReplayed) {
  auto [tokens, mask] = Batch();
  std::vector<std::vector<torch::Tensor>> grads;
  for (bool checkpointing : {false, true}) {
    LanguageModel model = Make<LanguageModel>(checkpointing, 0.3);
    model->train();
    torch::manual_seed(99);
    model->forward(tokens, mask).pow(2).mean().backward();
    grads.push_back(Grads(*model));
  }
  EXPECT_LT(MaxDifference(grads[0], grads[1]), 1e-10);
}

// Without gradients (scoring, sampling) nothing is recorded.
TEST(ActivationCheckpointTest, NoGraphWithoutGradients) {
  auto [tokens, mask] = Batch();
  LanguageModel model = Make<LanguageModel>(true);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(tokens, mask).grad_fn(), nullptr);
}

// The node keeps only the input: the function's intermediate results are
// freed after the forward pass (kept by the plain graph), and the gradients
// are the plain ones.
TEST(ActivationCheckpointTest, KeepsOnlyTheInput) {
  using WeakImpl =
      c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
  torch::manual_seed(1);
  torch::Tensor w = torch::randn({8, 8}, torch::kFloat64).requires_grad_();
  torch::Tensor x = torch::randn({4, 8}, torch::kFloat64).requires_grad_();
  std::optional<WeakImpl> hidden;
  auto f = [&](const torch::Tensor& in) {
    torch::Tensor h = torch::tanh(in.matmul(w));
    hidden.emplace(h.getIntrusivePtr());
    return h.matmul(w).sum(1);
  };
  torch::Tensor y = Checkpointed(f, x, {w});
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "metarm::CheckpointBackward");
  EXPECT_TRUE(hidden->expired()) << "the hidden activation was kept";
  y.sum().backward();
  const torch::Tensor checkpointed_x = x.grad().clone();
  const torch::Tensor checkpointed_w = w.grad().clone();
  x.mutable_grad().zero_();
  w.mutable_grad().zero_();
  torch::Tensor plain = f(x);
  EXPECT_FALSE(hidden->expired()) << "the plain graph keeps it";
  plain.sum().backward();
  EXPECT_LT((x.grad() - checkpointed_x).abs().max().item<double>(), 1e-12);
  EXPECT_LT((w.grad() - checkpointed_w).abs().max().item<double>(), 1e-12);
}

}  // namespace
}  // namespace metarm
