// Each function against the equation recomputed here with plain loops over
// doubles, an independent reference.
#include "ppo/ppo_math.h"

#include <algorithm>
#include <cmath>

#include "gtest/gtest.h"

namespace metarm {
namespace {

torch::Tensor T(std::vector<std::vector<double>> rows) {
  std::vector<torch::Tensor> tensors;
  for (auto& row : rows) tensors.push_back(torch::tensor(row, torch::kFloat64));
  return torch::stack(tensors);
}

const torch::Tensor kMask = T({{1, 1, 1, 0}, {1, 1, 0, 0}});

TEST(TokenRewardsTest, KlPenaltyEverywhereScoreOnTheLastToken) {
  torch::Tensor logprobs = T({{-1, -2, -3, 0}, {-0.5, -1, 0, 0}});
  torch::Tensor ref = T({{-1.5, -2, -2, 0}, {-0.5, -2, 0, 0}});
  torch::Tensor scores = torch::tensor({7.0, -0.5}, torch::kFloat64);
  torch::Tensor rewards = TokenRewards(scores, logprobs, ref, kMask, 0.1, 5.0);
  // Row 0: −0.1·(0.5, 0, −1) and the score 7 clipped to 5 on token 2.
  EXPECT_TRUE(torch::allclose(
      rewards, T({{-0.05, 0, 0.1 + 5.0, 0}, {0, -0.1 - 0.5, 0, 0}})))
      << rewards;
}

TEST(GaeTest, MatchesTheRecursion) {
  torch::Tensor rewards = T({{0.1, -0.2, 1.0, 0}, {0.3, 0.5, 0, 0}});
  torch::Tensor values = T({{0.5, 0.4, 0.8, 9}, {0.2, -0.1, 9, 9}});
  const double gamma = 0.9, lambda = 0.8;
  auto [advantages, returns] = Gae(rewards, values, kMask, gamma, lambda);
  for (int64_t row = 0; row < 2; ++row) {
    const int64_t length = row == 0 ? 3 : 2;
    double next_value = 0, next_advantage = 0;
    for (int64_t t = length - 1; t >= 0; --t) {
      const double r = rewards[row][t].item<double>();
      const double v = values[row][t].item<double>();
      const double delta = r + gamma * next_value - v;
      const double a = delta + gamma * lambda * next_advantage;
      EXPECT_NEAR(advantages[row][t].item<double>(), a, 1e-12)
          << row << "," << t;
      EXPECT_NEAR(returns[row][t].item<double>(), a + v, 1e-12);
      next_value = v;
      next_advantage = a;
    }
    for (int64_t t = length; t < 4; ++t) {
      EXPECT_EQ(advantages[row][t].item<double>(), 0.0);
      EXPECT_EQ(returns[row][t].item<double>(), 0.0);
    }
  }
}

TEST(WhitenTest, ZeroMeanUnitVarianceOverRealTokens) {
  torch::Tensor x = T({{1, 2, 3, 100}, {4, 5, -100, 100}});
  torch::Tensor w = Whiten(x, kMask);
  EXPECT_NEAR(MaskedMean(w, kMask).item<double>(), 0.0, 1e-9);
  EXPECT_NEAR(MaskedMean(w.pow(2), kMask).item<double>(), 1.0, 1e-6);
  EXPECT_EQ(w[0][3].item<double>(), 0.0);
}

TEST(PpoLossesTest, ClippedSurrogateAndValueLoss) {
  torch::Tensor old_logprobs = T({{-1, -1, -1, 0}, {-1, -1, 0, 0}});
  // Ratios e^0.5 (clipped at 1.2 for a positive advantage), e^-0.5, 1, ...
  torch::Tensor logprobs = T({{-0.5, -1.5, -1, 0}, {-1, -0.9, 0, 0}});
  torch::Tensor advantages = T({{1, 1, -2, 0}, {0.5, -1, 0, 0}});
  torch::Tensor values = T({{1, 0, 0, 0}, {0.5, 2, 0, 0}});
  torch::Tensor old_values = T({{0, 0, 0, 0}, {0.5, 0, 0, 0}});
  torch::Tensor returns = T({{1, 1, 0, 0}, {0, 1, 0, 0}});
  torch::Tensor entropy = T({{1, 2, 3, 50}, {4, 5, 50, 50}});
  PpoLosses losses =
      ComputePpoLosses(logprobs, old_logprobs, advantages, values, old_values,
                       returns, entropy, kMask, 0.2, 0.5);
  double policy = 0, value = 0;
  int clipped = 0;
  for (int64_t row = 0; row < 2; ++row) {
    for (int64_t t = 0; t < (row == 0 ? 3 : 2); ++t) {
      const double rho = std::exp(logprobs[row][t].item<double>() -
                                  old_logprobs[row][t].item<double>());
      const double a = advantages[row][t].item<double>();
      const double unclipped = -a * rho;
      const double clipped_term = -a * std::clamp(rho, 0.8, 1.2);
      policy += std::max(unclipped, clipped_term);
      clipped += clipped_term > unclipped;
      const double v = values[row][t].item<double>();
      const double v_old = old_values[row][t].item<double>();
      const double r = returns[row][t].item<double>();
      const double v_clip = v_old + std::clamp(v - v_old, -0.5, 0.5);
      value += 0.5 * std::max((v - r) * (v - r), (v_clip - r) * (v_clip - r));
    }
  }
  EXPECT_NEAR(losses.policy.item<double>(), policy / 5, 1e-12);
  EXPECT_NEAR(losses.value.item<double>(), value / 5, 1e-12);
  EXPECT_NEAR(losses.entropy.item<double>(), 15.0 / 5, 1e-12);
  EXPECT_NEAR(losses.clip_fraction, clipped / 5.0, 1e-12);
  EXPECT_GT(clipped, 0);
}

TEST(KlControllerTest, MovesTowardTheTargetWithinTheClip) {
  KlController fixed(0.05, 0.0);
  fixed.Update(10.0, 64);
  EXPECT_DOUBLE_EQ(fixed.value(), 0.05);
  KlController adaptive(0.1, 6.0, 1000);
  adaptive.Update(12.0, 100);  // error clipped to +0.2
  EXPECT_NEAR(adaptive.value(), 0.1 * (1 + 0.2 * 0.1), 1e-15);
  adaptive.Update(3.0, 100);  // error −0.5 clipped to −0.2
  EXPECT_NEAR(adaptive.value(), 0.1 * 1.02 * 0.98, 1e-15);
}

}  // namespace
}  // namespace metarm
