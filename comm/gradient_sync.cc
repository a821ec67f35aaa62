#include "comm/gradient_sync.h"

namespace metarm {

namespace {

absl::Status ReduceGradients(const std::vector<torch::Tensor>& parameters,
                             Communicator& group, ReduceOp op) {
  if (group.size() == 1) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  flat.reserve(parameters.size());
  for (const torch::Tensor& parameter : parameters) {
    flat.push_back(
        parameter.grad().defined()
            ? parameter.grad().reshape(-1)
            : torch::zeros({parameter.numel()}, parameter.options()));
  }
  torch::Tensor bucket = torch::cat(flat);
  absl::Status status = group.AllReduce(bucket, op);
  if (!status.ok()) return status;
  int64_t offset = 0;
  for (const torch::Tensor& parameter : parameters) {
    torch::Tensor averaged =
        bucket.narrow(0, offset, parameter.numel()).view_as(parameter);
    offset += parameter.numel();
    torch::Tensor& grad = const_cast<torch::Tensor&>(parameter).mutable_grad();
    if (grad.defined()) {
      grad.copy_(averaged);
    } else {
      grad = averaged.clone();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AverageGradients(const std::vector<torch::Tensor>& parameters,
                              Communicator& group) {
  return ReduceGradients(parameters, group, ReduceOp::kAverage);
}

absl::Status SumGradients(const std::vector<torch::Tensor>& parameters,
                          Communicator& group) {
  return ReduceGradients(parameters, group, ReduceOp::kSum);
}

torch::Tensor FlattenParameters(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& parameter : parameters) {
    flat.push_back(parameter.detach().reshape(-1).to(torch::kFloat64));
  }
  return torch::cat(flat);
}

}  // namespace metarm
