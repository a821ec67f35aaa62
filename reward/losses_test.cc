#include "reward/losses.h"

#include <cmath>

#include "gtest/gtest.h"

namespace metarm {
namespace {

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(BradleyTerryLossTest, MatchesTheFormula) {
  torch::Tensor chosen = torch::tensor({1.0, -0.5, 3.0}, torch::kFloat64);
  torch::Tensor rejected = torch::tensor({0.0, 0.5, -1.0}, torch::kFloat64);
  const double expected = -(std::log(Sigmoid(1.0)) + std::log(Sigmoid(-1.0)) +
                            std::log(Sigmoid(4.0))) /
                          3.0;
  EXPECT_NEAR(BradleyTerryLoss(chosen, rejected).item<double>(), expected,
              1e-12);
}

TEST(BradleyTerryLossTest, StableForLargeMargins) {
  torch::Tensor chosen = torch::tensor({-200.0f});
  torch::Tensor rejected = torch::tensor({200.0f});
  EXPECT_NEAR(BradleyTerryLoss(chosen, rejected).item<float>(), 400.0f, 1e-3);
}

TEST(DifferenceObjectiveTest, MatchesTheFormulaPairByPair) {
  // Two prompts, k = 3.
  torch::Tensor scores =
      torch::tensor({{0.0, 1.0, 3.0}, {2.0, 2.0, -1.0}}, torch::kFloat64);
  const double first = 2.0 / 9.0 * (Sigmoid(1.0) + Sigmoid(3.0) + Sigmoid(2.0));
  const double second =
      2.0 / 9.0 * (Sigmoid(0.0) + Sigmoid(3.0) + Sigmoid(3.0));
  EXPECT_NEAR(DifferenceObjective(scores).item<double>(),
              (first + second) / 2.0, 1e-12);
}

TEST(DifferenceObjectiveTest, GrowsAsResponsesSpreadApart) {
  torch::Tensor close = torch::tensor({{0.0, 0.1, 0.2, 0.3, 0.4}});
  torch::Tensor spread = close * 10;
  EXPECT_GT(DifferenceObjective(spread).item<float>(),
            DifferenceObjective(close).item<float>());
}

TEST(PairwiseAccuracyTest, TiesAreWrong) {
  EXPECT_DOUBLE_EQ(PairwiseAccuracy(torch::tensor({1.0, 2.0, 3.0, 0.0}),
                                    torch::tensor({0.0, 2.0, 1.0, 1.0})),
                   0.5);
}

}  // namespace
}  // namespace metarm
