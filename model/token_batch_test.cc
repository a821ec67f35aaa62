#include "model/token_batch.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(PadSequencesTest, LeftAndRight) {
  TokenBatch left = PadSequences({{5, 6, 7}, {8}}, Padding::kLeft);
  EXPECT_TRUE(torch::equal(left.tokens, torch::tensor({{5, 6, 7}, {0, 0, 8}})));
  EXPECT_TRUE(torch::equal(left.mask, torch::tensor({{1, 1, 1}, {0, 0, 1}})));
  TokenBatch right = PadSequences({{5, 6, 7}, {8}}, Padding::kRight, 4);
  EXPECT_TRUE(
      torch::equal(right.tokens, torch::tensor({{5, 6, 7, 0}, {8, 0, 0, 0}})));
  EXPECT_TRUE(
      torch::equal(right.mask, torch::tensor({{1, 1, 1, 0}, {1, 0, 0, 0}})));
}

TEST(TokenBatchTest, RowsAndConcatenate) {
  TokenBatch a = PadSequences({{1, 2}, {3}}, Padding::kRight);
  TokenBatch b = PadSequences({{4, 5, 6}}, Padding::kRight);
  TokenBatch both = Concatenate(a, b);
  EXPECT_TRUE(torch::equal(both.tokens,
                           torch::tensor({{1, 2, 0}, {3, 0, 0}, {4, 5, 6}})));
  TokenBatch last = both.Rows(2, 1);
  EXPECT_EQ(last.size(), 1);
  EXPECT_TRUE(torch::equal(last.mask, torch::tensor({{1, 1, 1}})));
}

TEST(MicroBatchesTest, CoverTheRowsInOrder) {
  auto as_pairs = [](const std::vector<RowRange>& ranges) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const RowRange& r : ranges) out.emplace_back(r.begin, r.count);
    return out;
  };
  using Pairs = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(as_pairs(MicroBatches(7, 3)), (Pairs{{0, 3}, {3, 3}, {6, 1}}));
  EXPECT_EQ(as_pairs(MicroBatches(6, 3)), (Pairs{{0, 3}, {3, 3}}));
  EXPECT_EQ(as_pairs(MicroBatches(5, 0)), (Pairs{{0, 5}}));
  EXPECT_EQ(as_pairs(MicroBatches(5, 9)), (Pairs{{0, 5}}));
  EXPECT_TRUE(MicroBatches(0, 4).empty());
  EXPECT_TRUE(MicroBatches(0, 0).empty());
}

}  // namespace
}  // namespace metarm
