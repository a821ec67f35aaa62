// Variable-length token sequences padded into one batch.
//
//   TokenBatch batch = PadSequences({{5, 6, 7}, {8}}, Padding::kLeft);
//   // batch.tokens [2, 3] = {{5, 6, 7}, {0, 0, 8}}, batch.mask =
//   {{1,1,1},{0,0,1}}
//
// The models read `mask` (1 real, 0 padding) and give the same outputs for a
// sequence whatever its padding, so the side only matters to the caller:
// generation pads prompts on the left so that every row's next token goes in
// the same column.
#ifndef METARM_MODEL_TOKEN_BATCH_H_
#define METARM_MODEL_TOKEN_BATCH_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace metarm {

enum class Padding { kLeft, kRight };

using TokenSequence = std::vector<int64_t>;

struct TokenBatch {
  torch::Tensor tokens;  // [B, T] int64, padding holds token 0
  torch::Tensor mask;    // [B, T] int64, 1 real, 0 padding

  int64_t size() const { return tokens.defined() ? tokens.size(0) : 0; }
  // Rows [begin, begin + count) as a batch sharing storage.
  TokenBatch Rows(int64_t begin, int64_t count) const;
  // The batch on `device` (itself when it is there already).
  TokenBatch To(const torch::Device& device) const {
    return {tokens.to(device), mask.to(device)};
  }
};

// Rows [begin, begin + count) of a batch.
struct RowRange {
  int64_t begin = 0;
  int64_t count = 0;
};

// Consecutive ranges of at most `micro_batch_size` rows covering `rows` rows
// (the micro-batches of a gradient-accumulation step); micro_batch_size 0, or
// one at least `rows`, gives the whole batch as one range. No range is empty
// unless `rows` is 0 (then there is none).
std::vector<RowRange> MicroBatches(int64_t rows, int64_t micro_batch_size);

// Pads to the longest sequence, or to `length` when it is larger.
TokenBatch PadSequences(const std::vector<TokenSequence>& sequences,
                        Padding side, int64_t length = 0);

// Stacks two batches' rows (padding the shorter one on the right).
TokenBatch Concatenate(const TokenBatch& first, const TokenBatch& second);

}  // namespace metarm

#endif  // METARM_MODEL_TOKEN_BATCH_H_
