#include "comm/weight_sync.h"

namespace metarm {

std::vector<std::pair<size_t, size_t>> PlanBuckets(
    const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes) {
  std::vector<std::pair<size_t, size_t>> buckets;
  size_t begin = 0;
  int64_t bytes = 0;
  for (size_t i = 0; i < parameters.size(); ++i) {
    const int64_t size = parameters[i].numel() * parameters[i].element_size();
    // A large tensor travels alone (comm/in_place.h): it closes the bucket
    // before it and the one it is in.
    const bool full =
        bytes > 0 && (bytes + size > bucket_bytes || IsLarge(parameters[i]) ||
                      IsLarge(parameters[i - 1]));
    const bool other_type = i > begin && parameters[i].scalar_type() !=
                                             parameters[begin].scalar_type();
    if (full || other_type) {
      buckets.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (begin < parameters.size()) buckets.emplace_back(begin, parameters.size());
  return buckets;
}

absl::StatusOr<int64_t> BroadcastWeights(
    const std::vector<torch::Tensor>& parameters, int64_t version,
    Communicator& group, int root, int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  torch::Tensor shared_version = torch::tensor({version}, torch::kInt64);
  absl::Status status = group.Broadcast(shared_version, root);
  if (!status.ok()) return status;
  for (auto [begin, end] : PlanBuckets(parameters, bucket_bytes)) {
    if (end == begin + 1 && parameters[begin].is_contiguous()) {
      // One tensor: straight into (or out of) the parameter's storage.
      torch::Tensor target = parameters[begin].detach();
      status = group.Broadcast(target, root);
      if (!status.ok()) return status;
      continue;
    }
    std::vector<torch::Tensor> flat;
    int64_t elements = 0;
    for (size_t i = begin; i < end; ++i) {
      flat.push_back(parameters[i].detach().reshape(-1));
      elements += parameters[i].numel();
    }
    torch::Tensor bucket =
        group.rank() == root
            ? torch::cat(flat)
            : torch::empty({elements}, parameters[begin].options());
    status = group.Broadcast(bucket, root);
    if (!status.ok()) return status;
    if (group.rank() == root) continue;
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t n = parameters[i].numel();
      torch::Tensor target = parameters[i];
      target.copy_(bucket.narrow(0, offset, n).view_as(target));
      offset += n;
    }
  }
  return shared_version[0].item<int64_t>();
}

}  // namespace metarm
