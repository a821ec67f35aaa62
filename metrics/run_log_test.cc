#include "metrics/run_log.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "util/file.h"

namespace metarm {
namespace {

using Leaves = std::vector<std::pair<std::string, double>>;

TEST(NumericLeavesTest, NestedObjectsBecomeLongerTags) {
  nlohmann::json line = {{"round", 2},
                         {"mode", "METARM"},
                         {"seconds", {{"learning", 1.5}, {"sync", 0.25}}},
                         {"ok", true}};
  EXPECT_EQ(NumericLeaves(line, "metrics"),
            (Leaves{{"metrics/ok", 1.0},
                    {"metrics/round", 2.0},
                    {"metrics/seconds/learning", 1.5},
                    {"metrics/seconds/sync", 0.25}}));
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(RunLogTest, StartEmptiesOldLogsAndAppendWritesBoth) {
  const std::string dir = TempDir() + "/run_log";
  ASSERT_TRUE(MakeDirectories(dir).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/rounds.jsonl", "old\n").ok());
  absl::StatusOr<std::unique_ptr<RunLog>> log =
      RunLog::Start(dir, {"rounds.jsonl"});
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(*ReadFile(dir + "/rounds.jsonl"), "");
  const std::string events_before = *ReadFile((*log)->event_file());
  ASSERT_TRUE((*log)->Append("rounds.jsonl", 1, {{"gold", 0.5}}).ok());
  EXPECT_EQ(*ReadFile(dir + "/rounds.jsonl"), "{\"gold\":0.5}\n");
  EXPECT_GT(ReadFile((*log)->event_file())->size(), events_before.size());
  EXPECT_NE((*log)->event_file().find("/tb/events.out.tfevents."),
            std::string::npos);
}

TEST(RunLogTest, ANewRunReplacesTheOldEventFiles) {
  const std::string dir = TempDir() + "/run_log_rerun";
  ASSERT_TRUE(MakeDirectories(dir + "/tb").ok());
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/tb/events.out.tfevents.1.old", "x").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/tb/notes.txt", "mine").ok());
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLog::Start(dir, {});
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_FALSE(ReadFile(dir + "/tb/events.out.tfevents.1.old").ok());
  EXPECT_TRUE(ReadFile((*log)->event_file()).ok());
  EXPECT_EQ(*ReadFile(dir + "/tb/notes.txt"), "mine");
}

TEST(RunLogTest, UnwritableFolderIsAnErrorNamingThePath) {
  absl::StatusOr<std::unique_ptr<RunLog>> log =
      RunLog::Start("/proc/no_such_dir", {"rounds.jsonl"});
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/proc/no_such_dir"),
            std::string::npos);
}

}  // namespace
}  // namespace metarm
