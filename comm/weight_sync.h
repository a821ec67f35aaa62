// Sending a model's weights from one rank to the others of a group in a few
// large flat buckets, not one message per tensor.
//
//   // learner 0 (root) and every rollout worker:
//   std::vector<torch::Tensor> parameters = policy->parameters();
//   absl::StatusOr<int64_t> version =
//       BroadcastWeights(parameters, my_version, sync_group, 0);
//
// Small parameters are packed in their order into buckets of at most
// `bucket_bytes`, one broadcast each; a parameter of kInPlaceBytes or more
// travels alone, broadcast in place (comm/bucket_plan.h; bench/comm_bench.cc
// measured packing a 52 MB model at 3.8x the time of one flat broadcast, the
// copies costing more than the messages saved). Every rank passes
// parameters of the same shapes and order.
#ifndef METARM_COMM_WEIGHT_SYNC_H_
#define METARM_COMM_WEIGHT_SYNC_H_

#include <torch/torch.h>

#include <vector>

#include "absl/status/statusor.h"
#include "comm/bucket_plan.h"
#include "comm/communicator.h"

namespace metarm {

// Collective over `group`: afterwards every rank's `parameters` equal the
// root's (written in place), and the returned value is the root's `version`
// (the policy version the weights belong to). Without gradients.
absl::StatusOr<int64_t> BroadcastWeights(
    std::vector<torch::Tensor>& parameters, int64_t version,
    Communicator& group, int root, int64_t bucket_bytes = kDefaultBucketBytes);

}  // namespace metarm

#endif  // METARM_COMM_WEIGHT_SYNC_H_
