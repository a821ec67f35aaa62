#include "bench/figure.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(FigureTest, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(Median({}), 0);
}

TEST(FigureTest, RatiosArePerPair) {
  const Samples ratios = Ratios({2, 9, 4}, {1, 3, 8}, 10);
  ASSERT_EQ(ratios.size(), 3u);
  EXPECT_DOUBLE_EQ(ratios[0], 20);
  EXPECT_DOUBLE_EQ(ratios[1], 30);
  EXPECT_DOUBLE_EQ(ratios[2], 5);
}

// A clock that reports the call's name, so the order of the calls shows.
TEST(FigureTest, PairsInterleaveAfterOneWarmUpEach) {
  std::string order;
  double tick = 0;
  const TimeOnce clock = [&](const std::function<void()>& call) {
    call();
    return ++tick;
  };
  Samples a, b;
  TimePairs(
      clock, [&] { order += "a"; }, [&] { order += "b"; }, 3, &a, &b);
  EXPECT_EQ(order,
            "ab"
            "ababab");
  EXPECT_EQ(a, (Samples{1, 3, 5}));
  EXPECT_EQ(b, (Samples{2, 4, 6}));
}

TEST(FigureTest, PrintsMedianRangeAndSamples) {
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  PrintFigure("x_over_y", {1.0, 3.0, 2.0}, "x (ratio)", {{"d_model", 8}}, "ok");
  std::cout.rdbuf(old);
  const nlohmann::json line = nlohmann::json::parse(captured.str());
  EXPECT_EQ(line["value"], 2.0);
  EXPECT_EQ(line["median"], 2.0);
  EXPECT_EQ(line["min"], 1.0);
  EXPECT_EQ(line["max"], 3.0);
  EXPECT_EQ(line["repeats"], 3);
  EXPECT_EQ(line["samples"].size(), 3u);
}

}  // namespace
}  // namespace metarm
