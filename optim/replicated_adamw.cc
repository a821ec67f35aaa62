#include "optim/replicated_adamw.h"

#include "comm/gradient_sync.h"
#include "optim/adamw_file.h"

namespace metarm {

ReplicatedAdamW::ReplicatedAdamW(std::vector<torch::Tensor> parameters,
                                 const torch::optim::AdamWOptions& options,
                                 Communicator& group)
    : parameters_(std::move(parameters)),
      group_(group),
      adam_(parameters_, options) {}

absl::Status ReplicatedAdamW::ReduceGradients(GradientReduction how) {
  switch (how) {
    case GradientReduction::kAverage:
      return AverageGradients(parameters_, group_);
    case GradientReduction::kSum:
      return SumGradients(parameters_, group_);
    default:
      return absl::OkStatus();
  }
}

absl::StatusOr<bool> ReplicatedAdamW::ReducedGradientsFinite() {
  for (const torch::Tensor& p : parameters_) {
    if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>()) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<double> ReplicatedAdamW::ClipGradientNorm(double max_norm) {
  // The reduced gradient is whole on every learner: no communication.
  torch::NoGradGuard no_grad;
  // The norm of the tensors' norms (as clip_grad_norm_), read back once.
  std::vector<torch::Tensor> norms;
  for (const torch::Tensor& p : parameters_) {
    if (p.grad().defined()) {
      norms.push_back(p.grad().norm().to(torch::kFloat64));
    }
  }
  const double norm =
      norms.empty() ? 0.0 : torch::stack(norms).norm().item<double>();
  const double scale = ClipCoefficient(norm, max_norm);
  if (scale < 1) {
    for (const torch::Tensor& p : parameters_) {
      if (p.grad().defined()) p.grad().mul_(scale);
    }
  }
  return norm;
}

absl::Status ReplicatedAdamW::Step() {
  adam_.step();
  return absl::OkStatus();
}

absl::Status ReplicatedAdamW::Save(const std::string& path) {
  return group_.rank() == 0 ? SaveAdamW(adam_, path) : absl::OkStatus();
}

absl::Status ReplicatedAdamW::Load(const std::string& path,
                                   const torch::Device& device) {
  return LoadAdamW(adam_, path, device);
}

}  // namespace metarm
