#include "rollout/paged_kv_pool.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace metarm {

PagedKvPool::PagedKvPool(int64_t blocks, int64_t block_tokens)
    : blocks_(blocks), block_tokens_(block_tokens), references_(blocks, 0) {
  if (blocks < 2 || block_tokens < 1) {
    throw std::invalid_argument("PagedKvPool: " + std::to_string(blocks) +
                                " blocks of " + std::to_string(block_tokens) +
                                " tokens (at least 2 of 1)");
  }
  // Handed out in increasing order: block 1 first.
  for (int64_t block = blocks - 1; block >= 1; --block) free_.push_back(block);
}

int64_t PagedKvPool::bytes() const {
  int64_t total = 0;
  for (const torch::Tensor& t : keys_) {
    if (t.defined()) total += t.numel() * t.element_size();
  }
  for (const torch::Tensor& t : values_) {
    if (t.defined()) total += t.numel() * t.element_size();
  }
  return total;
}

std::optional<int64_t> PagedKvPool::Allocate() {
  if (free_.empty()) return std::nullopt;
  const int64_t block = free_.back();
  free_.pop_back();
  references_[block] = 1;
  return block;
}

void PagedKvPool::Retain(int64_t block) { ++references_[block]; }

void PagedKvPool::Release(int64_t block) {
  if (references_[block] <= 0) {
    throw std::logic_error("PagedKvPool: block " + std::to_string(block) +
                           " released more often than held");
  }
  if (--references_[block] == 0) free_.push_back(block);
}

bool PagedKvPool::MakeWritable(std::vector<int64_t>& table, int64_t position) {
  const int64_t index = position / block_tokens_;
  const int64_t held = static_cast<int64_t>(table.size());
  if (index > held) {
    throw std::logic_error("PagedKvPool: position " + std::to_string(position) +
                           " beyond a table of " + std::to_string(held) +
                           " blocks");
  }
  if (index == held) {
    std::optional<int64_t> block = Allocate();
    if (!block) return false;
    table.push_back(*block);
    return true;
  }
  const int64_t shared = table[index];
  if (references_[shared] == 1) return true;
  // Copy on write: the sequence gets its own copy of the shared block.
  std::optional<int64_t> copy = Allocate();
  if (!copy) return false;
  for (std::vector<torch::Tensor>* layers : {&keys_, &values_}) {
    for (torch::Tensor& t : *layers) {
      if (!t.defined()) continue;
      t.narrow(0, *copy * block_tokens_, block_tokens_)
          .copy_(t.narrow(0, shared * block_tokens_, block_tokens_));
    }
  }
  Release(shared);
  table[index] = *copy;
  return true;
}

void PagedKvPool::EnsureLayer(int64_t layer, const torch::Tensor& like) {
  if (static_cast<int64_t>(keys_.size()) <= layer) {
    keys_.resize(layer + 1);
    values_.resize(layer + 1);
  }
  if (keys_[layer].defined()) return;
  // [slots, kv_heads, head_dim], zero: block 0 is read (masked) as padding,
  // and a masked key must still be finite.
  auto options = like.options();
  keys_[layer] = torch::zeros(
      {blocks_ * block_tokens_, like.size(1), like.size(3)}, options);
  values_[layer] = torch::zeros_like(keys_[layer]);
}

PagedStep::PagedStep(PagedKvPool& pool, const std::vector<PagedRow>& rows,
                     const torch::Device& device)
    : pool_(pool), rows_(static_cast<int64_t>(rows.size())) {
  const int64_t block = pool.block_tokens();
  for (const PagedRow& row : rows) {
    columns_ = std::max(columns_, row.added);
    keys_span_ = std::max(keys_span_, row.past + row.added);
  }
  longest_ = keys_span_;
  auto slot = [&](const PagedRow& row, int64_t position) {
    return (*row.table)[position / block] * block + position % block;
  };
  std::vector<int64_t> positions(rows_ * columns_);
  std::vector<uint8_t> allowed(rows_ * columns_ * keys_span_, 0);
  std::vector<int64_t> write_from, write_slots;
  std::vector<int64_t> read_slots(rows_ * keys_span_, 0);
  for (int64_t b = 0; b < rows_; ++b) {
    const PagedRow& row = rows[b];
    for (int64_t t = 0; t < columns_; ++t) {
      // A padding column repeats the row's last new token's position, so
      // it stays inside max_seq_len and sees only real keys.
      const int64_t position = row.past + std::min(t, row.added - 1);
      positions[b * columns_ + t] = position;
      uint8_t* allowed_row = &allowed[(b * columns_ + t) * keys_span_];
      std::fill(allowed_row, allowed_row + position + 1, 1);
      if (t < row.added) {
        write_from.push_back(b * columns_ + t);
        write_slots.push_back(slot(row, position));
      }
    }
    for (int64_t j = 0; j < row.past + row.added; ++j) {
      read_slots[b * keys_span_ + j] = slot(row, j);
    }
  }
  auto on_device = [&](std::vector<int64_t>& v, std::vector<int64_t> shape) {
    return torch::from_blob(v.data(), shape, torch::kInt64).to(device).clone();
  };
  positions_ = on_device(positions, {rows_, columns_});
  write_from_ =
      on_device(write_from, {static_cast<int64_t>(write_from.size())});
  write_slots_ =
      on_device(write_slots, {static_cast<int64_t>(write_slots.size())});
  read_slots_ = on_device(read_slots, {rows_ * keys_span_});
  allowed_ = torch::from_blob(allowed.data(), {rows_, 1, columns_, keys_span_},
                              torch::kUInt8)
                 .to(device)
                 .to(torch::kBool);
}

KvStore::Step PagedStep::Begin(const torch::Tensor& new_mask,
                               torch::ScalarType dtype) {
  if (new_mask.size(0) != rows_ || new_mask.size(1) != columns_) {
    throw std::invalid_argument(
        "PagedStep: tokens of shape [" + std::to_string(new_mask.size(0)) +
        ", " + std::to_string(new_mask.size(1)) + "] for a step of [" +
        std::to_string(rows_) + ", " + std::to_string(columns_) + "]");
  }
  torch::Tensor bias =
      torch::zeros(allowed_.sizes(), allowed_.options().dtype(dtype))
          .masked_fill_(allowed_.logical_not(),
                        -std::numeric_limits<double>::infinity());
  return {positions_, bias, longest_};
}

void PagedStep::Write(torch::Tensor& slots, const torch::Tensor& x) const {
  const int64_t heads = x.size(1), head_dim = x.size(3);
  // [B, h, T, hd] -> one row per new token, [B·T, h, hd].
  torch::Tensor per_token =
      x.permute({0, 2, 1, 3}).reshape({rows_ * columns_, heads, head_dim});
  slots.index_copy_(0, write_slots_,
                    per_token.index_select(0, write_from_).to(slots.dtype()));
}

std::pair<torch::Tensor, torch::Tensor> PagedStep::Store(
    int64_t layer, const torch::Tensor& new_keys,
    const torch::Tensor& new_values) {
  pool_.EnsureLayer(layer, new_keys);
  const int64_t heads = new_keys.size(1), head_dim = new_keys.size(3);
  auto store_and_gather = [&](torch::Tensor& slots, const torch::Tensor& x) {
    Write(slots, x);
    return slots.index_select(0, read_slots_)
        .view({rows_, keys_span_, heads, head_dim})
        .permute({0, 2, 1, 3});
  };
  return {store_and_gather(pool_.keys(layer), new_keys),
          store_and_gather(pool_.values(layer), new_values)};
}

std::optional<DecodeKeys> PagedStep::StoreForDecode(
    int64_t layer, const torch::Tensor& new_keys,
    const torch::Tensor& new_values) {
  if (columns_ != 1 || !DecodeAttentionSupports(new_keys)) return std::nullopt;
  pool_.EnsureLayer(layer, new_keys);
  torch::Tensor& keys = pool_.keys(layer);
  torch::Tensor& values = pool_.values(layer);
  if (keys.scalar_type() != new_keys.scalar_type()) return std::nullopt;
  Write(keys, new_keys);
  Write(values, new_values);
  // The pool's layers are alike: slot s starts s·stride(0) elements in.
  if (!read_offsets_.defined()) {
    read_offsets_ = (read_slots_ * keys.stride(0)).view({rows_, keys_span_});
  }
  return DecodeKeys{keys, values, read_offsets_, keys.stride(1), keys.size(1)};
}

}  // namespace metarm
