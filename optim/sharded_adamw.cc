#include "optim/sharded_adamw.h"

#include <cmath>

#include "optim/adamw_file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

// Tags of the moments rank 0 gathers for Save.
constexpr int kExpAvgTag = 7101;
constexpr int kExpAvgSqTag = 7102;

}  // namespace

ShardedAdamW::ShardedAdamW(std::vector<torch::Tensor> parameters,
                           const torch::optim::AdamWOptions& options,
                           Communicator& group)
    : parameters_(std::move(parameters)),
      options_(options),
      group_(group),
      layout_(parameters_, group.size()),
      shard_(torch::empty({0}, flat_options())),
      adam_(std::vector<torch::Tensor>{shard_}, options) {}

torch::TensorOptions ShardedAdamW::flat_options() const {
  return torch::TensorOptions()
      .dtype(parameters_.front().scalar_type())
      .device(parameters_.front().device());
}

void ShardedAdamW::ZeroGrad() {
  // As torch::optim::Optimizer::zero_grad.
  for (torch::Tensor& p : parameters_) {
    if (p.grad().defined()) {
      p.mutable_grad().detach_();
      p.mutable_grad().zero_();
    }
  }
}

absl::Status ShardedAdamW::ReduceGradients(GradientReduction how) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> gradients;
  for (const torch::Tensor& p : parameters_) gradients.push_back(p.grad());
  workspace_ = layout_.Flatten(gradients, flat_options());
  const int64_t size = layout_.shard_size();
  if (how == GradientReduction::kReduced) {
    shard_gradient_ = workspace_.narrow(0, begin(), size).clone();
    return absl::OkStatus();
  }
  shard_gradient_ = torch::empty({size}, flat_options());
  return group_.ReduceScatter(
      workspace_, shard_gradient_,
      how == GradientReduction::kSum ? ReduceOp::kSum : ReduceOp::kAverage);
}

absl::StatusOr<bool> ShardedAdamW::ReducedGradientsFinite() {
  if (!shard_gradient_.defined()) {
    return absl::FailedPreconditionError(
        "ReducedGradientsFinite before ReduceGradients");
  }
  torch::Tensor non_finite =
      torch::logical_not(torch::isfinite(shard_gradient_))
          .sum()
          .to(torch::kInt64)
          .reshape({1});
  METARM_RETURN_IF_ERROR(group_.AllReduce(non_finite, ReduceOp::kSum));
  return non_finite.item<int64_t>() == 0;
}

absl::StatusOr<double> ShardedAdamW::ClipGradientNorm(double max_norm) {
  if (!shard_gradient_.defined()) {
    return absl::FailedPreconditionError(
        "ClipGradientNorm before ReduceGradients");
  }
  // Each learner holds one shard (the padding is zeros): the squares are
  // summed over the group.
  torch::NoGradGuard no_grad;
  const double local = shard_gradient_.norm().item<double>();
  torch::Tensor squares = torch::tensor({local * local}, torch::kFloat64);
  METARM_RETURN_IF_ERROR(group_.AllReduce(squares, ReduceOp::kSum));
  const double norm = std::sqrt(squares.item<double>());
  const double scale = ClipCoefficient(norm, max_norm);
  if (scale < 1) shard_gradient_.mul_(scale);
  return norm;
}

absl::Status ShardedAdamW::Step() {
  if (!shard_gradient_.defined()) {
    return absl::FailedPreconditionError("Step before ReduceGradients");
  }
  torch::NoGradGuard no_grad;
  shard_.set_(layout_.Stretch(parameters_, begin(), layout_.shard_size(),
                              flat_options()));
  shard_.mutable_grad() = shard_gradient_;
  adam_.step();
  torch::Tensor gathered = std::move(workspace_);
  absl::Status status = group_.AllGather(shard_, gathered);
  shard_.mutable_grad() = torch::Tensor();
  shard_.set_();
  shard_gradient_ = torch::Tensor();
  METARM_RETURN_IF_ERROR(status);
  layout_.Unflatten(gathered, parameters_);
  return absl::OkStatus();
}

absl::Status ShardedAdamW::Save(const std::string& path) {
  torch::NoGradGuard no_grad;
  torch::optim::AdamWParamState* state = FindAdamWState(adam_, shard_);
  if (group_.rank() != 0) {
    if (state == nullptr) return absl::OkStatus();
    METARM_RETURN_IF_ERROR(group_.Send(state->exp_avg(), 0, kExpAvgTag));
    return group_.Send(state->exp_avg_sq(), 0, kExpAvgSqTag);
  }
  torch::optim::AdamW whole(parameters_, options_);
  if (state != nullptr) {
    // The whole moments, for the file's format: rank 0 holds them for the
    // length of the save.
    const int64_t size = layout_.shard_size();
    torch::Tensor exp_avg = torch::empty({layout_.padded()}, flat_options());
    torch::Tensor exp_avg_sq = torch::empty_like(exp_avg);
    exp_avg.narrow(0, 0, size).copy_(state->exp_avg());
    exp_avg_sq.narrow(0, 0, size).copy_(state->exp_avg_sq());
    for (int r = 1; r < group_.size(); ++r) {
      torch::Tensor avg = exp_avg.narrow(0, layout_.shard_begin(r), size);
      torch::Tensor avg_sq = exp_avg_sq.narrow(0, layout_.shard_begin(r), size);
      METARM_RETURN_IF_ERROR(group_.Recv(avg, r, kExpAvgTag));
      METARM_RETURN_IF_ERROR(group_.Recv(avg_sq, r, kExpAvgSqTag));
    }
    for (size_t i = 0; i < parameters_.size(); ++i) {
      SetAdamWState(whole, parameters_[i], state->step(),
                    layout_.View(exp_avg, i).clone(),
                    layout_.View(exp_avg_sq, i).clone());
    }
  }
  return SaveAdamW(whole, path);
}

absl::Status ShardedAdamW::Load(const std::string& path,
                                const torch::Device& device) {
  torch::optim::AdamW whole(parameters_, options_);
  METARM_RETURN_IF_ERROR(LoadAdamW(whole, path, device));
  std::vector<torch::Tensor> exp_avg, exp_avg_sq;
  int64_t step = -1;
  for (const torch::Tensor& p : parameters_) {
    torch::optim::AdamWParamState* state = FindAdamWState(whole, p);
    exp_avg.push_back(state != nullptr ? state->exp_avg() : torch::Tensor());
    exp_avg_sq.push_back(state != nullptr ? state->exp_avg_sq()
                                          : torch::Tensor());
    if (state != nullptr) step = state->step();
  }
  adam_.state().clear();
  if (step < 0) return absl::OkStatus();  // saved before the first step
  const int64_t size = layout_.shard_size();
  SetAdamWState(
      adam_, shard_, step,
      layout_.Flatten(exp_avg, flat_options()).narrow(0, begin(), size).clone(),
      layout_.Flatten(exp_avg_sq, flat_options())
          .narrow(0, begin(), size)
          .clone());
  return absl::OkStatus();
}

}  // namespace metarm
