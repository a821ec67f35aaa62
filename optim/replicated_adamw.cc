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
