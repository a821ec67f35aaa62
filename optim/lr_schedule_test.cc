#include "optim/lr_schedule.h"

#include <cmath>

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(LrScheduleTest, WarmupRampsFromTheFirstStep) {
  const LrSchedule schedule{2.0, 4, 100, LrDecay::kConstant, 0};
  EXPECT_DOUBLE_EQ(schedule.At(0), 0.5);
  EXPECT_DOUBLE_EQ(schedule.At(1), 1.0);
  EXPECT_DOUBLE_EQ(schedule.At(3), 2.0);
  EXPECT_DOUBLE_EQ(schedule.At(4), 2.0);
  EXPECT_DOUBLE_EQ(schedule.At(1000), 2.0);
}

TEST(LrScheduleTest, LinearDecayReachesTheFloorAtTheEnd) {
  const LrSchedule schedule{1.0, 10, 110, LrDecay::kLinear, 0.1};
  EXPECT_DOUBLE_EQ(schedule.At(10), 1.0);
  EXPECT_DOUBLE_EQ(schedule.At(60), 0.1 + 0.9 * 0.5);
  EXPECT_DOUBLE_EQ(schedule.At(110), 0.1);
  EXPECT_DOUBLE_EQ(schedule.At(500), 0.1);
}

TEST(LrScheduleTest, CosineDecayIsHalfWayAtTheMiddle) {
  const LrSchedule schedule{1.0, 0, 100, LrDecay::kCosine, 0};
  EXPECT_DOUBLE_EQ(schedule.At(0), 1.0);
  EXPECT_NEAR(schedule.At(50), 0.5, 1e-12);
  EXPECT_NEAR(schedule.At(25), (1 + std::cos(M_PI / 4)) / 2, 1e-12);
  EXPECT_NEAR(schedule.At(100), 0.0, 1e-12);
}

TEST(LrScheduleTest, NoScheduleIsTheBaseRate) {
  const LrSchedule schedule{3e-4, 0, 0, LrDecay::kCosine, 0};
  EXPECT_DOUBLE_EQ(schedule.At(0), 3e-4);
  EXPECT_DOUBLE_EQ(schedule.At(7), 3e-4);
}

}  // namespace
}  // namespace metarm
