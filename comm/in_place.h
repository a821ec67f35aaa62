// Which tensors the weight broadcast and the gradient all-reduce move alone
// and in place rather than packed with their neighbours into one flat
// buffer: packing a large tensor costs a copy on every rank and saves
// almost nothing (bench/comm_bench.cc measured packing a 52 MB model at
// 3.8x the time of one flat broadcast; docs/PERFORMANCE.md).
#ifndef METARM_COMM_IN_PLACE_H_
#define METARM_COMM_IN_PLACE_H_

#include <torch/torch.h>

#include <cstdint>

namespace metarm {

inline constexpr int64_t kInPlaceBytes = int64_t{1} << 20;

inline bool IsLarge(const torch::Tensor& t) {
  return t.numel() * t.element_size() >= kInPlaceBytes;
}

// Large and contiguous: a collective can work on its storage directly.
inline bool TravelsInPlace(const torch::Tensor& t) {
  return IsLarge(t) && t.is_contiguous();
}

}  // namespace metarm

#endif  // METARM_COMM_IN_PLACE_H_
