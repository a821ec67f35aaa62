#include "util/stop_signals.h"

#include <unistd.h>

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(StopSignalsTest, NothingReceivedAtFirst) {
  StopSignals stop;
  EXPECT_EQ(stop.received(), 0);
}

TEST(StopSignalsTest, RecordsTheFirstSignalAndKeepsTheProcessAlive) {
  StopSignals stop;
  ASSERT_EQ(::raise(SIGUSR1), 0);
  EXPECT_EQ(stop.received(), SIGUSR1);
  ASSERT_EQ(::raise(SIGTERM), 0);  // the first one is kept
  EXPECT_EQ(stop.received(), SIGUSR1);
  EXPECT_EQ(SignalName(stop.received()), "SIGUSR1");
}

TEST(StopSignalsTest, ANewInstanceStartsClear) {
  {
    StopSignals first;
    ::raise(SIGTERM);
  }
  StopSignals second;
  EXPECT_EQ(second.received(), 0);
}

TEST(StopSignalsTest, ASecondSignalOfTheKindTakesItsDefaultAction) {
  EXPECT_EXIT(
      {
        StopSignals stop;
        ::raise(SIGTERM);
        ::raise(SIGTERM);
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

TEST(StopSignalsTest, TheStatusIsRecognised) {
  EXPECT_TRUE(IsStoppedBySignal(StoppedBySignal("stopped")));
  EXPECT_FALSE(IsStoppedBySignal(absl::InternalError("x")));
  EXPECT_FALSE(IsStoppedBySignal(absl::OkStatus()));
}

}  // namespace
}  // namespace metarm
