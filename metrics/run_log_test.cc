#include "metrics/run_log.h"

#include <cstdlib>
#include <filesystem>

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

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(MakeDirectories(dir).ok());
  return dir;
}

const std::vector<LogFile> kFiles = {{"rounds.jsonl", "round"},
                                     {"samples.jsonl", ""}};

TEST(RunLogTest, StartEmptiesOldLogsAndAppendWritesBoth) {
  const std::string dir = FreshDir("run_log");
  ASSERT_TRUE(WriteFileAtomically(dir + "/rounds.jsonl", "old\n").ok());
  absl::StatusOr<std::unique_ptr<RunLog>> log =
      RunLog::Start(dir, kFiles, true);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(*ReadFile(dir + "/rounds.jsonl"), "");
  const std::string events_before = *ReadFile((*log)->event_file());
  ASSERT_TRUE(
      (*log)->Append("rounds.jsonl", {{"round", 1}, {"gold", 0.5}}).ok());
  EXPECT_EQ(*ReadFile(dir + "/rounds.jsonl"), "{\"gold\":0.5,\"round\":1}\n");
  EXPECT_GT(ReadFile((*log)->event_file())->size(), events_before.size());
  EXPECT_NE((*log)->event_file().find("/tb/events.out.tfevents."),
            std::string::npos);
  EXPECT_EQ((*log)->line_counts().at("rounds.jsonl"), 1);
  EXPECT_FALSE((*log)->Append("other.jsonl", {}).ok());
}

TEST(RunLogTest, WithoutTensorBoardNoEventFile) {
  const std::string dir = FreshDir("run_log_no_tb");
  absl::StatusOr<std::unique_ptr<RunLog>> log =
      RunLog::Start(dir, kFiles, false);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->Append("rounds.jsonl", {{"round", 1}}).ok());
  EXPECT_EQ((*log)->event_file(), "");
  EXPECT_FALSE(std::filesystem::exists(dir + "/tb"));
}

TEST(RunLogTest, ANewRunReplacesTheOldEventFiles) {
  const std::string dir = FreshDir("run_log_rerun");
  ASSERT_TRUE(MakeDirectories(dir + "/tb").ok());
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/tb/events.out.tfevents.1.old", "x").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/tb/notes.txt", "mine").ok());
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLog::Start(dir, {}, true);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_FALSE(ReadFile(dir + "/tb/events.out.tfevents.1.old").ok());
  EXPECT_TRUE(ReadFile((*log)->event_file()).ok());
  EXPECT_EQ(*ReadFile(dir + "/tb/notes.txt"), "mine");
}

TEST(RunLogTest, ResumeCutsLinesWrittenAfterTheCheckpoint) {
  const std::string dir = FreshDir("run_log_resume");
  ASSERT_TRUE(WriteFileAtomically(dir + "/rounds.jsonl",
                                  "{\"round\":1}\n{\"round\":2}\n{\"rou")
                  .ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/samples.jsonl", "a\n").ok());
  absl::StatusOr<std::unique_ptr<RunLog>> log = RunLog::Resume(
      dir, kFiles, true, {{"rounds.jsonl", 1}, {"samples.jsonl", 1}});
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(*ReadFile(dir + "/rounds.jsonl"), "{\"round\":1}\n");
  EXPECT_EQ(*ReadFile(dir + "/samples.jsonl"), "a\n");
  EXPECT_EQ((*log)->line_counts().at("rounds.jsonl"), 1);
  ASSERT_TRUE((*log)->Append("rounds.jsonl", {{"round", 2}}).ok());
  EXPECT_EQ(*ReadFile(dir + "/rounds.jsonl"), "{\"round\":1}\n{\"round\":2}\n");
}

TEST(RunLogTest, ResumeRefusesALogShorterThanTheCheckpointChangingNothing) {
  const std::string dir = FreshDir("run_log_short");
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/rounds.jsonl", "{\"round\":1}\n{\"ro").ok());
  absl::StatusOr<std::unique_ptr<RunLog>> log =
      RunLog::Resume(dir, kFiles, true, {{"rounds.jsonl", 2}});
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find(
                "rounds.jsonl: holds 1 complete lines, fewer than the "
                "checkpoint recorded (2)"),
            std::string::npos)
      << log.status();
  EXPECT_EQ(*ReadFile(dir + "/rounds.jsonl"), "{\"round\":1}\n{\"ro");
}

TEST(RunLogTest, UnwritableFolderIsAnErrorNamingThePath) {
  absl::StatusOr<std::unique_ptr<RunLog>> log =
      RunLog::Start("/proc/no_such_dir", kFiles, true);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/proc/no_such_dir"),
            std::string::npos);
}

}  // namespace
}  // namespace metarm
