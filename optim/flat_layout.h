// Where each parameter lives in one flat buffer of a model's parameters, and
// which stretch of that buffer each rank of a group owns: the layout of ZeRO
// stage 1 (Rajbhandari et al., 2020), whose optimizer state is cut into
// equal shards.
//
//   FlatLayout layout(model->parameters(), /*shards=*/learners.size());
//   torch::Tensor flat = layout.Flatten(model->parameters());  // [padded()]
//   torch::Tensor mine = flat.narrow(0, layout.shard_begin(rank),
//                                    layout.shard_size());
//   layout.Unflatten(flat, parameters);  // values back in place
//
// Parameters follow one another in the order given; the buffer is padded
// with zeros to a multiple of the shard count, so every shard has the same
// size (the collectives need equal blocks).
#ifndef METARM_OPTIM_FLAT_LAYOUT_H_
#define METARM_OPTIM_FLAT_LAYOUT_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace metarm {

class FlatLayout {
 public:
  // `shards` >= 1. Only the parameters' shapes are kept.
  FlatLayout(const std::vector<torch::Tensor>& parameters, int shards);

  int64_t total() const { return total_; }  // elements without padding
  int64_t shard_size() const { return shard_size_; }
  int64_t padded() const { return shard_size_ * shards_; }
  int64_t shard_begin(int shard) const { return shard_size_ * shard; }
  int shards() const { return shards_; }
  size_t count() const { return offsets_.size(); }

  // The tensors (one per parameter, each of its parameter's shape) end to
  // end in a new buffer of padded() elements with `options`; an undefined
  // tensor (a parameter without a gradient) counts as zeros.
  torch::Tensor Flatten(const std::vector<torch::Tensor>& tensors,
                        const torch::TensorOptions& options) const;

  // Elements [begin, begin + size) of what Flatten(tensors) would give,
  // without making the whole buffer.
  torch::Tensor Stretch(const std::vector<torch::Tensor>& tensors,
                        int64_t begin, int64_t size,
                        const torch::TensorOptions& options) const;

  // Copies each parameter's stretch of `flat` into tensors[i].
  void Unflatten(const torch::Tensor& flat,
                 std::vector<torch::Tensor>& tensors) const;

  // Parameter i's stretch of `flat`, viewed in the parameter's shape (no
  // copy).
  torch::Tensor View(const torch::Tensor& flat, size_t i) const;

 private:
  int64_t EndOf(size_t i) const;  // one past parameter i's last element

  std::vector<int64_t> offsets_;
  std::vector<std::vector<int64_t>> shapes_;
  int64_t total_ = 0;
  int64_t shard_size_ = 0;
  int shards_ = 1;
};

}  // namespace metarm

#endif  // METARM_OPTIM_FLAT_LAYOUT_H_
