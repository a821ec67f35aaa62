#include "proto/job_io.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(ParseJobTextTest, ReadsNestedFields) {
  absl::StatusOr<Job> job =
      ParseJobText(R"pb(
                     name: "demo"
                     seed: 7
                     topology { learner_ranks: 2 rollout_ranks: 1 }
                     ppo { clip_range: 0.3 }
                     reward_training { mode: VANILLA }
                   )pb",
                   "demo.pbtxt");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name(), "demo");
  EXPECT_EQ(job->seed(), 7u);
  EXPECT_EQ(job->topology().learner_ranks(), 2u);
  EXPECT_DOUBLE_EQ(job->ppo().clip_range(), 0.3);
  EXPECT_EQ(job->reward_training().mode(), VANILLA);
}

TEST(ParseJobTextTest, UnknownFieldNamesFileLineAndColumn) {
  absl::StatusOr<Job> job =
      ParseJobText("name: \"x\"\nppo {\n  clip_rnage: 0.2\n}\n", "bad.pbtxt");
  ASSERT_FALSE(job.ok());
  const std::string message(job.status().message());
  EXPECT_NE(message.find("bad.pbtxt:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("clip_rnage"), std::string::npos) << message;
}

TEST(ParseJobTextTest, SyntaxErrorNamesLineAndColumn) {
  absl::StatusOr<Job> job = ParseJobText("name: \"x\"\nseed: 3 }\n", "s.pbtxt");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("s.pbtxt:2:"), std::string::npos)
      << job.status().message();
}

TEST(ParseJobTextTest, WrongTypeIsAnError) {
  absl::StatusOr<Job> job = ParseJobText("seed: \"seven\"\n", "t.pbtxt");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("t.pbtxt:1:"), std::string::npos);
}

TEST(ParseJobTextTest, TextRoundTrips) {
  Job job;
  job.set_name("rt");
  job.mutable_ppo()->set_gamma(0.5);
  absl::StatusOr<Job> again = ParseJobText(JobToText(job), "rt");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->name(), "rt");
  EXPECT_TRUE(again->ppo().has_gamma());
  EXPECT_DOUBLE_EQ(again->ppo().gamma(), 0.5);
}

}  // namespace
}  // namespace metarm
