#include "comm/gradient_sync.h"

#include "util/status_macros.h"

namespace metarm {

absl::Status AllReduceTensors(std::vector<torch::Tensor>& tensors,
                              Communicator& group, ReduceOp op) {
  if (group.size() == 1 || tensors.empty()) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  for (const TensorBucket& bucket :
       PlanBuckets(tensors, ForwardOrder(tensors.size()), kDefaultBucketBytes,
                   LargeTensors::kAlone)) {
    if (bucket.in_place) {
      METARM_RETURN_IF_ERROR(
          group.AllReduce(tensors[bucket.members.front()], op));
      continue;
    }
    std::vector<torch::Tensor> flat;
    flat.reserve(bucket.members.size());
    for (size_t i : bucket.members) flat.push_back(tensors[i].reshape(-1));
    torch::Tensor packed = torch::cat(flat);
    METARM_RETURN_IF_ERROR(group.AllReduce(packed, op));
    int64_t offset = 0;
    for (size_t i : bucket.members) {
      tensors[i].copy_(
          packed.narrow(0, offset, tensors[i].numel()).view_as(tensors[i]));
      offset += tensors[i].numel();
    }
  }
  return absl::OkStatus();
}

namespace {

// Reduces every parameter's gradient in place (a missing gradient counts as
// zeros and receives one).
absl::Status ReduceGradients(std::vector<torch::Tensor>& parameters,
                             Communicator& group, ReduceOp op) {
  if (group.size() == 1) return absl::OkStatus();
  std::vector<torch::Tensor> grads;
  grads.reserve(parameters.size());
  for (torch::Tensor& parameter : parameters) {
    torch::Tensor& grad = parameter.mutable_grad();
    if (!grad.defined()) grad = torch::zeros_like(parameter);
    grads.push_back(grad);
  }
  return AllReduceTensors(grads, group, op);
}

}  // namespace

absl::Status AverageGradients(std::vector<torch::Tensor>& parameters,
                              Communicator& group) {
  return ReduceGradients(parameters, group, ReduceOp::kAverage);
}

absl::Status SumGradients(std::vector<torch::Tensor>& parameters,
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
