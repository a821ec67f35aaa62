#include "comm/bucket_plan.h"

#include <algorithm>
#include <numeric>

#include "comm/in_place.h"

namespace metarm {

std::vector<size_t> ForwardOrder(size_t n) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  return order;
}

std::vector<size_t> ReverseOrder(size_t n) {
  std::vector<size_t> order = ForwardOrder(n);
  std::reverse(order.begin(), order.end());
  return order;
}

std::vector<TensorBucket> PlanBuckets(const std::vector<torch::Tensor>& tensors,
                                      const std::vector<size_t>& order,
                                      int64_t bucket_bytes,
                                      LargeTensors large) {
  std::vector<TensorBucket> buckets;
  int open = -1;  // the bucket small tensors join, or none
  int64_t bytes = 0;
  for (size_t i : order) {
    const torch::Tensor& t = tensors[i];
    if (large == LargeTensors::kAlone && TravelsInPlace(t)) {
      buckets.push_back({{i}, true});
      continue;
    }
    const int64_t size = t.numel() * t.element_size();
    const bool close =
        open >= 0 && ((bytes > 0 && bytes + size > bucket_bytes) ||
                      tensors[buckets[open].members.front()].scalar_type() !=
                          t.scalar_type());
    if (open < 0 || close) {
      buckets.push_back({{}, false});
      open = static_cast<int>(buckets.size()) - 1;
      bytes = 0;
    }
    buckets[open].members.push_back(i);
    bytes += size;
  }
  return buckets;
}

}  // namespace metarm
