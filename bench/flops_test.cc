#include "bench/flops.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(FlopsTest, ForwardMatchesAHandCount) {
  // d 4, 1 layer, ff 8, vocab 10, 2 heads of 2, LM head; 3 sequences of 5.
  ModelShape s{4, 1, 8, 10, 2, 2, 2, false, true};
  // Per token: qkv 4x12, out 4x4, mlp 4x8 + 8x4 -> 2 x 128 = 256;
  // attention 2 x 2 x 5 x 4 = 80; LM head 2 x 4 x 10 = 80.
  EXPECT_DOUBLE_EQ(ForwardFlops(s, 3, 5), 3 * 5 * (256 + 80 + 80));
}

TEST(FlopsTest, GroupedQueriesAndSwiGluCountTheirMatrices) {
  ModelShape s{8, 2, 16, 10, 2, 4, 1, true, false};
  // qkv 8 x (4 + 2) x 2 = 96, out 8 x 8 = 64, mlp 8 x 16 x 3 = 384;
  // attention 2 x 2 x 3 x 8 = 96; scalar head 2 x 8.
  const double per_token = 2 * (96 + 64 + 384) + 96;
  EXPECT_DOUBLE_EQ(ForwardFlops(s, 1, 3), 3 * (2 * per_token + 16));
}

TEST(FlopsTest, StepsAreMultiplesOfTheForwardPass) {
  ModelShape s{4, 1, 8, 10, 2, 2, 2, false, false};
  const double f = ForwardFlops(s, 1, 5);
  EXPECT_DOUBLE_EQ(RewardStepFlops(s, 2, 5), 6 * f);
  EXPECT_DOUBLE_EQ(MetaRmStepFlops(s, 2, 4, 5), 5 * 4 * f + 3 * 2 * f);
  EXPECT_DOUBLE_EQ(PpoUpdateFlops(s, s, 2, 5), 2 * f + 6 * f + 6 * f);
}

}  // namespace
}  // namespace metarm
