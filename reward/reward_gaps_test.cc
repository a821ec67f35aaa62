#include "reward/reward_gaps.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(RewardGapsTest, GapsOverPairsOfEachPrompt) {
  // Prompt 1 gaps: 1, 3, 2. Prompt 2 gaps: 0, 0, 0. Scores span [0, 3].
  torch::Tensor scores = torch::tensor({{0.0, 1.0, 3.0}, {1.0, 1.0, 1.0}});
  RewardGapStats stats = ComputeRewardGaps(scores, 4);
  EXPECT_EQ(stats.pairs, 6);
  EXPECT_DOUBLE_EQ(stats.reward_range, 3.0);
  EXPECT_DOUBLE_EQ(stats.raw.mean, 1.0);
  EXPECT_NEAR(stats.normalized.mean, 1.0 / 3.0, 1e-12);
  ASSERT_EQ(stats.raw.quantiles.size(), 5u);
  EXPECT_DOUBLE_EQ(stats.raw.quantiles[2], 0.5);  // median of {0,0,0,1,2,3}
  // Normalised gaps 0,0,0 | 1/3 | 2/3 | 1 in 4 bins over [0, 1].
  EXPECT_EQ(stats.histogram, (std::vector<int64_t>{3, 1, 1, 1}));
  nlohmann::json json = RewardGapStatsToJson(stats);
  EXPECT_EQ(json["pairs"], 6);
  EXPECT_DOUBLE_EQ(json["raw"]["quantiles"]["q50"].get<double>(), 0.5);
}

TEST(RewardGapsTest, ConstantScoresGiveZeroGaps) {
  RewardGapStats stats = ComputeRewardGaps(torch::ones({2, 5}));
  EXPECT_EQ(stats.pairs, 20);
  EXPECT_DOUBLE_EQ(stats.normalized.mean, 0.0);
  EXPECT_EQ(stats.histogram[0], 20);
}

}  // namespace
}  // namespace metarm
