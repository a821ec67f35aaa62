#include "comm/weight_sync.h"

#include "util/status_macros.h"

namespace metarm {

absl::StatusOr<int64_t> BroadcastWeights(std::vector<torch::Tensor>& parameters,
                                         int64_t version, Communicator& group,
                                         int root, int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  torch::Tensor shared_version = torch::tensor({version}, torch::kInt64);
  METARM_RETURN_IF_ERROR(group.Broadcast(shared_version, root));
  for (const TensorBucket& bucket :
       PlanBuckets(parameters, ForwardOrder(parameters.size()), bucket_bytes,
                   LargeTensors::kAlone)) {
    if (bucket.in_place) {
      // Straight into (or out of) the parameter's storage.
      torch::Tensor target = parameters[bucket.members.front()].detach();
      METARM_RETURN_IF_ERROR(group.Broadcast(target, root));
      continue;
    }
    std::vector<torch::Tensor> flat;
    int64_t elements = 0;
    for (size_t i : bucket.members) {
      flat.push_back(parameters[i].detach().reshape(-1));
      elements += parameters[i].numel();
    }
    torch::Tensor packed =
        group.rank() == root
            ? torch::cat(flat)
            : torch::empty({elements},
                           parameters[bucket.members.front()].options());
    METARM_RETURN_IF_ERROR(group.Broadcast(packed, root));
    if (group.rank() == root) continue;
    int64_t offset = 0;
    for (size_t i : bucket.members) {
      const int64_t n = parameters[i].numel();
      parameters[i].copy_(packed.narrow(0, offset, n).view_as(parameters[i]));
      offset += n;
    }
  }
  return shared_version[0].item<int64_t>();
}

}  // namespace metarm
