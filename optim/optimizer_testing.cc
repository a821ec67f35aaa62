#include "optim/optimizer_testing.h"

#include "gtest/gtest.h"

namespace metarm {

LanguageModel SmallModel(uint64_t seed) {
  TransformerConfig config;
  config.vocab_size = 50;
  config.d_model = 32;
  config.n_layers = 2;
  config.n_heads = 4;
  config.d_ff = 64;
  config.max_seq_len = 16;
  torch::manual_seed(seed);
  return LanguageModel(config);
}

LanguageModel CopyOf(LanguageModel& source) {
  LanguageModel copy(source->config());
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> from = source->parameters();
  std::vector<torch::Tensor> to = copy->parameters();
  for (size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
  return copy;
}

torch::optim::AdamWOptions TestAdamWOptions() {
  return torch::optim::AdamWOptions(3e-3).weight_decay(0.01);
}

void SeededBackward(LanguageModel& model, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor tokens = torch::randint(0, 50, {3, 10});
  model->forward(tokens, torch::ones_like(tokens)).pow(2).mean().backward();
}

void TrainSteps(LanguageModel& model, DataParallelOptimizer& optimizer,
                int rank, int first, int steps, GradientReduction how) {
  for (int step = first; step < first + steps; ++step) {
    optimizer.ZeroGrad();
    SeededBackward(model, 1000 * step + rank);
    ASSERT_TRUE(optimizer.ReduceGradients(how).ok());
    ASSERT_TRUE(optimizer.Step().ok());
  }
}

double MaxParameterDifference(LanguageModel& a, LanguageModel& b) {
  double most = 0;
  std::vector<torch::Tensor> pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    most = std::max(most, (pa[i] - pb[i]).abs().max().item<double>());
  }
  return most;
}

}  // namespace metarm
