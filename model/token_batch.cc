#include "model/token_batch.h"

#include <algorithm>

namespace metarm {

TokenBatch TokenBatch::Rows(int64_t begin, int64_t count) const {
  return {tokens.narrow(0, begin, count), mask.narrow(0, begin, count)};
}

std::vector<RowRange> MicroBatches(int64_t rows, int64_t micro_batch_size) {
  const int64_t step = micro_batch_size > 0 ? micro_batch_size : rows;
  std::vector<RowRange> ranges;
  for (int64_t begin = 0; begin < rows; begin += step) {
    ranges.push_back({begin, std::min(step, rows - begin)});
  }
  return ranges;
}

TokenBatch PadSequences(const std::vector<TokenSequence>& sequences,
                        Padding side, int64_t length) {
  for (const TokenSequence& sequence : sequences) {
    length = std::max<int64_t>(length, sequence.size());
  }
  const int64_t rows = static_cast<int64_t>(sequences.size());
  TokenBatch batch{torch::zeros({rows, length}, torch::kInt64),
                   torch::zeros({rows, length}, torch::kInt64)};
  auto tokens = batch.tokens.accessor<int64_t, 2>();
  auto mask = batch.mask.accessor<int64_t, 2>();
  for (int64_t row = 0; row < rows; ++row) {
    const TokenSequence& sequence = sequences[row];
    const int64_t offset = side == Padding::kLeft
                               ? length - static_cast<int64_t>(sequence.size())
                               : 0;
    for (size_t i = 0; i < sequence.size(); ++i) {
      tokens[row][offset + i] = sequence[i];
      mask[row][offset + i] = 1;
    }
  }
  return batch;
}

TokenBatch Concatenate(const TokenBatch& first, const TokenBatch& second) {
  const int64_t length = std::max(first.tokens.size(1), second.tokens.size(1));
  auto pad = [length](const torch::Tensor& t) {
    return torch::constant_pad_nd(t, {0, length - t.size(1)}, 0);
  };
  return {torch::cat({pad(first.tokens), pad(second.tokens)}, 0),
          torch::cat({pad(first.mask), pad(second.mask)}, 0)};
}

}  // namespace metarm
