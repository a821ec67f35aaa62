// Keys and values in fixed-size blocks from one pool, for the generation
// engine (rollout/generation_engine.h).
//
//   PagedKvPool pool(/*blocks=*/256, /*block_tokens=*/16);
//   std::optional<int64_t> block = pool.Allocate();   // nullopt when full
//   PagedStep step(pool, {{table, past, added}, ...}, device);
//   logits = policy->forward(tokens, mask, &step);     // writes and reads
//
// Per layer the pool holds keys and values as [blocks × block_tokens,
// kv_heads, head_dim] ("slots"); a sequence owns a block table, and its
// token at position p lives in slot table[p / B] · B + p % B. So a sequence
// wastes at most the unused part of its last block, and the pool's size is
// fixed up front. Blocks are reference-counted: the k responses to one
// prompt share the prompt's blocks, and a shared block is copied before a
// sequence writes into it (MakeWritable). Block 0 is never handed out: it
// stays zero, and the keys a step gathers beyond a sequence's end read it
// (masked out by the attention bias).
#ifndef METARM_ROLLOUT_PAGED_KV_POOL_H_
#define METARM_ROLLOUT_PAGED_KV_POOL_H_

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "model/transformer.h"

namespace metarm {

class PagedKvPool {
 public:
  // `blocks` includes the reserved block 0.
  PagedKvPool(int64_t blocks, int64_t block_tokens);

  int64_t block_tokens() const { return block_tokens_; }
  // Blocks that can be handed out (all but block 0).
  int64_t usable_blocks() const { return blocks_ - 1; }
  int64_t free_blocks() const { return static_cast<int64_t>(free_.size()); }
  int64_t used_blocks() const { return usable_blocks() - free_blocks(); }
  // Bytes of the pool's tensors (0 until the first step allocates them).
  int64_t bytes() const;

  // A free block with one reference, or nullopt when none is left.
  std::optional<int64_t> Allocate();
  void Retain(int64_t block);
  void Release(int64_t block);
  int64_t references(int64_t block) const { return references_[block]; }

  // Makes slot `position` of `table` writable by this sequence alone: adds a
  // block when the table ends before it, copies a shared block. False when
  // the pool has no block to give (nothing changed then).
  bool MakeWritable(std::vector<int64_t>& table, int64_t position);

  // Layer tensors, allocated on the first use with the keys' shape, dtype
  // and device.
  torch::Tensor& keys(int64_t layer) { return keys_[layer]; }
  torch::Tensor& values(int64_t layer) { return values_[layer]; }
  void EnsureLayer(int64_t layer, const torch::Tensor& like);

 private:
  int64_t blocks_;
  int64_t block_tokens_;
  std::vector<int64_t> references_;
  std::vector<int64_t> free_;  // a stack: the last freed is reused first
  std::vector<torch::Tensor> keys_;
  std::vector<torch::Tensor> values_;
};

// One sequence's part in a PagedStep.
struct PagedRow {
  const std::vector<int64_t>* table;  // covers past + added tokens
  int64_t past = 0;                   // tokens already in the pool
  int64_t added = 0;                  // new tokens this step (>= 1)
};

// A forward pass over the pool (model/transformer.h's KvStore): row b's new
// tokens are the first rows[b].added columns of the step's [B, T] tokens
// (right padding after), at positions past, past + 1, ...; their keys and
// values go to their slots, and each query attends over its sequence's
// keys up to itself.
class PagedStep : public KvStore {
 public:
  PagedStep(PagedKvPool& pool, const std::vector<PagedRow>& rows,
            const torch::Device& device);

  Step Begin(const torch::Tensor& new_mask, torch::ScalarType dtype) override;
  std::pair<torch::Tensor, torch::Tensor> Store(
      int64_t layer, const torch::Tensor& new_keys,
      const torch::Tensor& new_values) override;
  // A decode step on the CPU: writes the new keys and values and lets the
  // attention read every row's keys from their blocks, without the gather.
  std::optional<DecodeKeys> StoreForDecode(
      int64_t layer, const torch::Tensor& new_keys,
      const torch::Tensor& new_values) override;

 private:
  // Writes the new tokens' keys or values [B, h, T, hd] to their slots.
  void Write(torch::Tensor& slots, const torch::Tensor& x) const;

  PagedKvPool& pool_;
  int64_t rows_ = 0;
  int64_t columns_ = 0;    // T
  int64_t keys_span_ = 0;  // S: the longest row after the step
  int64_t longest_ = 0;
  torch::Tensor positions_;     // [B, T]
  torch::Tensor allowed_;       // [B, 1, T, S] bool
  torch::Tensor write_from_;    // indices into the flattened [B·T] new tokens
  torch::Tensor write_slots_;   // their slots
  torch::Tensor read_slots_;    // [B·S]: the slots Store gathers
  torch::Tensor read_offsets_;  // [B, S]: their element offsets, once
};

}  // namespace metarm

#endif  // METARM_ROLLOUT_PAGED_KV_POOL_H_
