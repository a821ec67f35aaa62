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

}  // namespace
}  // namespace metarm
