#include "comm/call_watchdog.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"

namespace metarm {
namespace {

// Collects the reports instead of ending the process.
struct Reports {
  std::mutex mutex;
  std::vector<std::string> messages;
  CallWatchdog::OnTimeout Collect() {
    return [this](const std::string& message) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.push_back(message);
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages.size();
  }
};

TEST(CallWatchdogTest, ACallThatReturnsInTimeIsNotReported) {
  Reports reports;
  {
    CallWatchdog watchdog(absl::Milliseconds(300), reports.Collect());
    for (int i = 0; i < 5; ++i) {
      CallWatchdog::Guard guard = watchdog.Watch("quick call");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(reports.size(), 0u);
}

TEST(CallWatchdogTest, AHungCallIsReportedOnceWithItsNameAndWait) {
  Reports reports;
  CallWatchdog watchdog(absl::Milliseconds(200), reports.Collect());
  const auto start = std::chrono::steady_clock::now();
  CallWatchdog::Guard guard =
      watchdog.Watch("MPI_Allreduce on group 'learners', rank 1 of 2");
  while (reports.size() == 0 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double reported_after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_GE(reported_after, 0.2);
  EXPECT_LT(reported_after, 1.0);
  const std::string& message = reports.messages[0];
  EXPECT_NE(message.find("MPI_Allreduce on group 'learners', rank 1 of 2 did "
                         "not complete within the collective timeout of 200ms"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("topology.collective_timeout_seconds"),
            std::string::npos);
}

TEST(CallWatchdogTest, OnlyTheHungOneOfSeveralCallsIsReported) {
  Reports reports;
  CallWatchdog watchdog(absl::Milliseconds(200), reports.Collect());
  CallWatchdog::Guard hung = watchdog.Watch("hung");
  for (int i = 0; i < 10; ++i) {
    CallWatchdog::Guard quick = watchdog.Watch("quick");
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports.messages[0].rfind("hung ", 0), 0u);
}

// A process that was itself stopped (SIGSTOP) and continued has not been
// waiting for a hung peer: its calls' clocks restart instead of expiring.
TEST(CallWatchdogTest, AStoppedProcessDoesNotBlameItsPeers) {
  EXPECT_EXIT(
      {
        std::atomic<int> reports{0};
        CallWatchdog watchdog(absl::Seconds(3),
                              [&](const std::string&) { ++reports; });
        CallWatchdog::Guard guard = watchdog.Watch("call");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        // Stop the whole process for 4 s (longer than the timeout) from a
        // child that continues it.
        const pid_t parent = ::getpid();
        if (::fork() == 0) {
          ::kill(parent, SIGSTOP);
          std::this_thread::sleep_for(std::chrono::seconds(4));
          ::kill(parent, SIGCONT);
          std::_Exit(0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5500));
        std::exit(reports == 0 ? 0 : 10 + reports);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(CallWatchdogTest, ExitOnHungCallEndsTheProcessNamingTheRank) {
  EXPECT_EXIT(ExitOnHungCall(3, "node7", "MPI_Bcast did not complete"),
              ::testing::ExitedWithCode(1),
              "metarm: rank 3 \\(host node7\\) failed: MPI_Bcast did not "
              "complete; ending the job");
}

}  // namespace
}  // namespace metarm
