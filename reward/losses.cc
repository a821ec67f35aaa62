#include "reward/losses.h"

namespace metarm {

torch::Tensor BradleyTerryLoss(const torch::Tensor& chosen,
                               const torch::Tensor& rejected) {
  // log σ(x) through logsigmoid: exact for large |x| where log(sigmoid(x))
  // would underflow.
  return -torch::log_sigmoid(chosen - rejected).mean();
}

torch::Tensor DifferenceObjective(const torch::Tensor& scores) {
  const int64_t k = scores.size(1);
  // gaps[x][i][j] = |r_i - r_j|; the strict upper triangle holds each pair
  // i < j once.
  torch::Tensor gaps = (scores.unsqueeze(2) - scores.unsqueeze(1)).abs();
  torch::Tensor upper =
      torch::ones({k, k}, scores.options().dtype(torch::kBool)).triu(1);
  torch::Tensor per_prompt =
      torch::sigmoid(gaps).masked_fill(upper.logical_not(), 0.0).sum({1, 2});
  return (per_prompt * (2.0 / (k * k))).mean();
}

double PairwiseAccuracy(const torch::Tensor& chosen,
                        const torch::Tensor& rejected) {
  if (chosen.numel() == 0) return 0.0;
  return (chosen > rejected).to(torch::kFloat64).mean().item<double>();
}

}  // namespace metarm
