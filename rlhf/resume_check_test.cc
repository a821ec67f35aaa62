#include "rlhf/resume_check.h"

#include "gtest/gtest.h"
#include "proto/job_defaults.h"

namespace metarm {
namespace {

Job DefaultJob() {
  Job job;
  job.mutable_task()->set_name("sort");
  ApplyJobDefaults(&job);
  return job;
}

TEST(ResumeConflictsTest, SameJobResumes) {
  EXPECT_TRUE(ResumeConflicts(DefaultJob(), DefaultJob(), 1).empty());
}

TEST(ResumeConflictsTest, ReportingLayoutAndMoreRoundsMayChange) {
  Job now = DefaultJob();
  now.set_name("renamed");
  now.set_output_dir("elsewhere");
  now.mutable_logging()->set_progress(false);
  now.mutable_checkpoint()->set_keep_last(5);
  now.mutable_eval()->set_num_prompts(7);
  now.mutable_topology()->set_learner_ranks(4);
  now.mutable_sft()->set_micro_batch_size(2);
  now.mutable_reward_training()->set_micro_batch_size(3);
  now.mutable_reward_training()->set_meta_micro_batch_size(1);
  now.mutable_ppo()->set_micro_batch_size(4);
  now.mutable_policy()->set_activation_checkpointing(true);
  now.mutable_reward_model()->set_activation_checkpointing(true);
  now.set_rounds(DefaultJob().rounds() + 3);
  EXPECT_TRUE(ResumeConflicts(DefaultJob(), now, 1).empty());
}

TEST(ResumeConflictsTest, NamesEveryChangedFieldThatMatters) {
  Job now = DefaultJob();
  now.mutable_ppo()->set_clip_range(0.5);
  now.mutable_policy()->set_d_model(256);
  now.set_seed(99);
  EXPECT_EQ(
      ResumeConflicts(DefaultJob(), now, 1),
      (std::vector<std::string>{"seed", "policy.d_model", "ppo.clip_range"}));
}

TEST(ResumeConflictsTest, FewerRoundsThanTheCheckpointIsAConflict) {
  Job now = DefaultJob();
  now.set_rounds(1);
  EXPECT_EQ(
      ResumeConflicts(DefaultJob(), now, 2),
      (std::vector<std::string>{"rounds (1, the checkpoint is at round 2)"}));
}

}  // namespace
}  // namespace metarm
