// Sending a model's weights from one rank to the others of a group in a few
// large flat buckets, not one message per tensor.
//
//   // learner 0 (root) and every rollout worker:
//   absl::StatusOr<int64_t> version =
//       BroadcastWeights(policy->parameters(), my_version, sync_group, 0);
//
// Runs of small parameters are packed in their order into buckets of at most
// `bucket_bytes`, one broadcast each; a parameter of kInPlaceBytes or more
// travels alone, broadcast in place (bench/comm_bench.cc measured packing a
// 52 MB model at 3.8x the time of one flat broadcast, the copies costing
// more than the messages saved). Every rank passes parameters of the same
// shapes and order.
#ifndef METARM_COMM_WEIGHT_SYNC_H_
#define METARM_COMM_WEIGHT_SYNC_H_

#include <torch/torch.h>

#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "comm/in_place.h"

namespace metarm {

inline constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

// Collective over `group`: afterwards every rank's `parameters` equal the
// root's, and the returned value is the root's `version` (the policy version
// the weights belong to). Without gradients.
absl::StatusOr<int64_t> BroadcastWeights(
    const std::vector<torch::Tensor>& parameters, int64_t version,
    Communicator& group, int root, int64_t bucket_bytes = kDefaultBucketBytes);

// The buckets BroadcastWeights uses: index ranges [begin, end) into
// `parameters`, each of one dtype and at most `bucket_bytes` (or one tensor).
std::vector<std::pair<size_t, size_t>> PlanBuckets(
    const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes);

}  // namespace metarm

#endif  // METARM_COMM_WEIGHT_SYNC_H_
