#include "training/job_options.h"

#include "gtest/gtest.h"
#include "proto/job_defaults.h"

namespace metarm {
namespace {

TEST(JobOptionsTest, EveryRewardModeHasItsObjective) {
  EXPECT_EQ(ObjectiveOf(VANILLA), RewardObjective::kVanilla);
  EXPECT_EQ(ObjectiveOf(METARM), RewardObjective::kMetaRm);
  EXPECT_EQ(ObjectiveOf(METARM_EXACT), RewardObjective::kMetaRmExact);
  EXPECT_EQ(ObjectiveOf(GAP_REGULARIZED), RewardObjective::kGapRegularized);
  // The objective's printed name is the job's.
  for (RewardMode mode : {VANILLA, METARM, METARM_EXACT, GAP_REGULARIZED}) {
    EXPECT_EQ(RewardObjectiveName(ObjectiveOf(mode)), RewardMode_Name(mode));
  }
}

TEST(JobOptionsTest, RewardTrainerOptionsCarryTheSpec) {
  Job job;
  job.mutable_reward_training()->set_mode(GAP_REGULARIZED);
  job.mutable_reward_training()->set_eta(0.25);
  job.mutable_reward_training()->set_gap_lambda(0.5);
  job.mutable_reward_training()->set_learning_rate(3e-4);
  job.mutable_reward_training()->set_weight_decay(0.01);
  job.mutable_topology()->set_shard_optimizer_state(true);
  const RewardTrainerOptions options = RewardTrainerOptionsOf(job);
  EXPECT_EQ(options.mode, RewardObjective::kGapRegularized);
  EXPECT_DOUBLE_EQ(options.eta, 0.25);
  EXPECT_DOUBLE_EQ(options.gap_lambda, 0.5);
  EXPECT_DOUBLE_EQ(options.learning_rate, 3e-4);
  EXPECT_DOUBLE_EQ(options.weight_decay, 0.01);
  EXPECT_TRUE(options.shard_optimizer_state);
}

TEST(JobOptionsTest, ModelConfigFromSpec) {
  Job job;
  ApplyJobDefaults(&job);
  ModelSpec spec = job.policy();
  spec.set_d_model(32);
  spec.set_d_ff(0);
  spec.set_positions(ROTARY);
  spec.set_dropout(0.1);
  const TransformerConfig config = ConfigFromSpec(spec, 259);
  EXPECT_EQ(config.vocab_size, 259);  // spec.vocab_size 0: the task's
  EXPECT_EQ(config.d_model, 32);
  EXPECT_EQ(config.d_ff, 128);  // 4 * d_model
  EXPECT_TRUE(config.rotary);
  EXPECT_DOUBLE_EQ(config.dropout, 0.1);
  spec.set_vocab_size(300);
  EXPECT_EQ(ConfigFromSpec(spec, 259).vocab_size, 300);
  EXPECT_FALSE(config.activation_checkpointing);
  EXPECT_FALSE(config.bf16);
  spec.set_activation_checkpointing(true);
  spec.set_precision(BF16);
  EXPECT_TRUE(ConfigFromSpec(spec, 259).activation_checkpointing);
  EXPECT_TRUE(ConfigFromSpec(spec, 259).bf16);
}

// METARM_EXACT's double backward keeps its reward model off the fused
// attention kernels; the other modes leave the config as it is.
TEST(JobOptionsTest, ExactMetaRmUsesTheExplicitAttention) {
  Job job;
  ApplyJobDefaults(&job);
  const TransformerConfig config;
  EXPECT_TRUE(ForRewardTraining(job, config).fused_attention);
  job.mutable_reward_training()->set_mode(METARM_EXACT);
  EXPECT_FALSE(ForRewardTraining(job, config).fused_attention);
}

}  // namespace
}  // namespace metarm
