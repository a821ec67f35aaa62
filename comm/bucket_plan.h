// The one bucket planner of every collective that moves many tensors: the
// weight broadcast (comm/weight_sync.h), the gradient all-reduce after
// backward (comm/gradient_sync.h) and the overlapped reducer
// (comm/overlapped_reducer.h), as c10d's compute_bucket_assignment_by_size
// serves both DDP and broadcast_coalesced.
//
//   std::vector<TensorBucket> plan = PlanBuckets(tensors, ForwardOrder(n),
//                                                kDefaultBucketBytes,
//                                                LargeTensors::kAlone);
//   for (const TensorBucket& b : plan) { ... b.members, b.in_place ... }
//
// Tensors are taken in `order`; each joins the open bucket unless that would
// pass `bucket_bytes` or mix dtypes, which closes it. With
// LargeTensors::kAlone a large contiguous tensor (comm/in_place.h) gets a
// bucket of its own, moved in place, and the open bucket stays open: packing
// a large tensor costs a copy on every rank and saves almost nothing. Every
// rank plans the same buckets from the same shapes, so the collectives
// match everywhere.
#ifndef METARM_COMM_BUCKET_PLAN_H_
#define METARM_COMM_BUCKET_PLAN_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace metarm {

inline constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

enum class LargeTensors { kAlone, kPacked };

struct TensorBucket {
  std::vector<size_t> members;  // indices into the tensors, in plan order
  bool in_place = false;        // one large contiguous tensor, not packed
};

// 0, 1, ..., n - 1 and its reverse (backward produces gradients in about
// the reverse of the parameters' registration order).
std::vector<size_t> ForwardOrder(size_t n);
std::vector<size_t> ReverseOrder(size_t n);

std::vector<TensorBucket> PlanBuckets(const std::vector<torch::Tensor>& tensors,
                                      const std::vector<size_t>& order,
                                      int64_t bucket_bytes, LargeTensors large);

}  // namespace metarm

#endif  // METARM_COMM_BUCKET_PLAN_H_
