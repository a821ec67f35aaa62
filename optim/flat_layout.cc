#include "optim/flat_layout.h"

namespace metarm {

FlatLayout::FlatLayout(const std::vector<torch::Tensor>& parameters, int shards)
    : shards_(shards) {
  for (const torch::Tensor& p : parameters) {
    offsets_.push_back(total_);
    shapes_.push_back(p.sizes().vec());
    total_ += p.numel();
  }
  shard_size_ = (total_ + shards - 1) / shards;
}

torch::Tensor FlatLayout::Flatten(const std::vector<torch::Tensor>& tensors,
                                  const torch::TensorOptions& options) const {
  torch::NoGradGuard no_grad;
  torch::Tensor flat = torch::empty({padded()}, options);
  for (size_t i = 0; i < tensors.size(); ++i) {
    torch::Tensor stretch = View(flat, i);
    if (tensors[i].defined()) {
      stretch.copy_(tensors[i]);
    } else {
      stretch.zero_();
    }
  }
  flat.narrow(0, total_, padded() - total_).zero_();
  return flat;
}

torch::Tensor FlatLayout::Stretch(const std::vector<torch::Tensor>& tensors,
                                  int64_t begin, int64_t size,
                                  const torch::TensorOptions& options) const {
  torch::NoGradGuard no_grad;
  torch::Tensor out = torch::zeros({size}, options);
  const int64_t end = begin + size;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const int64_t first = std::max(begin, offsets_[i]);
    const int64_t last = std::min(end, EndOf(i));
    if (first >= last || !tensors[i].defined()) continue;
    out.narrow(0, first - begin, last - first)
        .copy_(tensors[i].reshape(-1).narrow(0, first - offsets_[i],
                                             last - first));
  }
  return out;
}

void FlatLayout::Unflatten(const torch::Tensor& flat,
                           std::vector<torch::Tensor>& tensors) const {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(View(flat, i));
}

int64_t FlatLayout::EndOf(size_t i) const {
  return i + 1 < offsets_.size() ? offsets_[i + 1] : total_;
}

torch::Tensor FlatLayout::View(const torch::Tensor& flat, size_t i) const {
  return flat.narrow(0, offsets_[i], EndOf(i) - offsets_[i]).view(shapes_[i]);
}

}  // namespace metarm
