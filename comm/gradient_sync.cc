#include "comm/gradient_sync.h"

namespace metarm {

absl::Status AllReduceTensors(std::vector<torch::Tensor>& tensors,
                              Communicator& group, ReduceOp op) {
  if (group.size() == 1 || tensors.empty()) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  // Large contiguous tensors are reduced in place; the others are packed
  // into one flat buffer (one collective for all the small ones).
  std::vector<torch::Tensor*> packed;
  for (torch::Tensor& t : tensors) {
    if (!TravelsInPlace(t)) {
      packed.push_back(&t);
      continue;
    }
    absl::Status status = group.AllReduce(t, op);
    if (!status.ok()) return status;
  }
  if (packed.empty()) return absl::OkStatus();
  std::vector<torch::Tensor> flat;
  flat.reserve(packed.size());
  for (const torch::Tensor* t : packed) flat.push_back(t->reshape(-1));
  torch::Tensor bucket = torch::cat(flat);
  absl::Status status = group.AllReduce(bucket, op);
  if (!status.ok()) return status;
  int64_t offset = 0;
  for (torch::Tensor* t : packed) {
    t->copy_(bucket.narrow(0, offset, t->numel()).view_as(*t));
    offset += t->numel();
  }
  return absl::OkStatus();
}

namespace {

// Reduces every parameter's gradient in place (a missing gradient counts as
// zeros and receives one).
absl::Status ReduceGradients(const std::vector<torch::Tensor>& parameters,
                             Communicator& group, ReduceOp op) {
  if (group.size() == 1) return absl::OkStatus();
  std::vector<torch::Tensor> grads;
  grads.reserve(parameters.size());
  for (const torch::Tensor& parameter : parameters) {
    torch::Tensor& grad = const_cast<torch::Tensor&>(parameter).mutable_grad();
    if (!grad.defined()) grad = torch::zeros_like(parameter);
    grads.push_back(grad);
  }
  return AllReduceTensors(grads, group, op);
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
