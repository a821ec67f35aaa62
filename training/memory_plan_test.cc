#include "training/memory_plan.h"

#include "gtest/gtest.h"
#include "model/transformer.h"
#include "proto/job_defaults.h"

namespace metarm {
namespace {

double Numel(torch::nn::Module& module) {
  double total = 0;
  for (const torch::Tensor& p : module.parameters()) total += p.numel();
  return total;
}

// The count against the models LibTorch builds, for every architecture knob.
TEST(ParameterCountTest, EqualsTheBuiltModels) {
  std::vector<TransformerConfig> configs(6);
  configs[1].rotary = true;
  configs[2].norm = NormKind::kRmsNorm;
  configs[2].mlp = MlpKind::kSwiGlu;
  configs[2].bias = false;
  configs[2].tie_embeddings = true;
  configs[3].n_kv_heads = 2;
  configs[3].qkv_bias = true;
  configs[3].bias = false;
  configs[4].d_model = 96;
  configs[4].n_heads = 3;
  configs[4].d_ff = 200;
  configs[4].n_layers = 3;
  configs[5].vocab_size = 1000;
  configs[5].max_seq_len = 300;
  for (size_t i = 0; i < configs.size(); ++i) {
    LanguageModel lm(configs[i]);
    ScalarModel scalar(configs[i]);
    EXPECT_EQ(ParameterCount(configs[i], true), Numel(*lm)) << "config " << i;
    EXPECT_EQ(ParameterCount(configs[i], false), Numel(*scalar))
        << "config " << i;
  }
}

Job SmallJob() {
  Job job;
  job.mutable_task()->set_name("sort");
  ApplyJobDefaults(&job);
  return job;
}

TEST(MemoryPlanTest, SeparateJobsHaveLearnersAndRolloutWorkers) {
  const Job job = SmallJob();
  const MemoryPlan plan = PlanMemory(job, {}, {});
  ASSERT_EQ(plan.ranks.size(), 2u);
  EXPECT_EQ(plan.ranks[0].role, "learner");
  EXPECT_EQ(plan.ranks[1].role, "rollout worker");
  // A learner holds the optimizers; a rollout worker only weights.
  EXPECT_GT(plan.ranks[0].TotalBytes(), plan.ranks[1].TotalBytes());
  EXPECT_TRUE(CheckMemoryPlan(plan, 1e9, "test").ok());
}

TEST(MemoryPlanTest, ShardingDividesTheMoments) {
  Job job = SmallJob();
  job.mutable_topology()->set_learner_ranks(4);
  auto moments = [](const MemoryPlan& plan) {
    for (const MemoryItem& item : plan.ranks[0].items) {
      if (item.name == "policy AdamW moments") return item.bytes;
    }
    return -1.0;
  };
  const double replicated = moments(PlanMemory(job, {}, {}));
  job.mutable_topology()->set_shard_optimizer_state(true);
  EXPECT_DOUBLE_EQ(moments(PlanMemory(job, {}, {})), replicated / 4);
  // Two moments of float32 per parameter.
  EXPECT_DOUBLE_EQ(replicated, 8 * ParameterCount(TransformerConfig{}, true));
}

// reward_model { n_layers: 1000000000 }: refused, naming the largest item.
TEST(MemoryPlanTest, AnAbsurdModelIsRefusedNamingTheLargestItem) {
  const Job job = SmallJob();
  TransformerConfig huge;
  huge.n_layers = 1000000000;
  const absl::Status status = CheckMemoryPlan(
      PlanMemory(job, {}, huge), 8.0 * (1 << 30), "--memory_limit_gib");
  ASSERT_TRUE(absl::IsFailedPrecondition(status));
  EXPECT_NE(status.message().find("the job does not fit in memory: a learner "
                                  "needs about"),
            std::string::npos)
      << status;
  EXPECT_NE(status.message().find("and a rank may use 8.0 GiB "
                                  "(--memory_limit_gib)"),
            std::string::npos)
      << status;
}

// ppo.rollout_batch_size: 3999999996: the rollout worker's KV cache.
TEST(MemoryPlanTest, AnAbsurdBatchIsRefusedOnTheRolloutWorker) {
  Job job = SmallJob();
  job.mutable_ppo()->set_rollout_batch_size(3999999996u);
  const absl::Status status =
      CheckMemoryPlan(PlanMemory(job, {}, {}), 8.0 * (1 << 30), "test");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("a learner needs"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find("the largest item: the PPO experience batch"),
            std::string::npos)
      << status;
}

// The learner's largest step ("activations of ..."), name and bytes.
MemoryItem LargestActivations(const MemoryPlan& plan) {
  for (const MemoryItem& item : plan.ranks[0].items) {
    if (item.name.rfind("activations of", 0) == 0) return item;
  }
  return {};
}

// Micro-batches of one row hold the activations of batches of one row.
TEST(MemoryPlanTest, MicroBatchesHoldOneMicroBatchOfActivations) {
  const Job job = SmallJob();
  Job micro = job;
  micro.mutable_sft()->set_micro_batch_size(1);
  micro.mutable_reward_training()->set_micro_batch_size(1);
  micro.mutable_reward_training()->set_meta_micro_batch_size(1);
  micro.mutable_ppo()->set_micro_batch_size(1);
  Job single = job;
  single.mutable_sft()->set_batch_size(1);
  single.mutable_reward_training()->set_batch_size(1);
  single.mutable_reward_training()->set_meta_batch_size(1);
  single.mutable_ppo()->set_minibatch_size(1);
  const MemoryItem whole_item = LargestActivations(PlanMemory(job, {}, {}));
  const MemoryItem micro_item = LargestActivations(PlanMemory(micro, {}, {}));
  const MemoryItem single_item = LargestActivations(PlanMemory(single, {}, {}));
  ASSERT_GT(micro_item.bytes, 0);
  EXPECT_EQ(micro_item.name, single_item.name);
  EXPECT_DOUBLE_EQ(micro_item.bytes, single_item.bytes);
  EXPECT_LT(micro_item.bytes, whole_item.bytes / 10);
}

// Checkpointing keeps each block's input and one block's activations.
TEST(MemoryPlanTest, CheckpointingKeepsTheBlocksInputs) {
  const Job job = SmallJob();
  TransformerConfig config;
  config.n_layers = 8;
  const double kept = LargestActivations(PlanMemory(job, config, config)).bytes;
  config.activation_checkpointing = true;
  const double recomputed =
      LargestActivations(PlanMemory(job, config, config)).bytes;
  EXPECT_LT(recomputed, kept / 3);
  EXPECT_GT(recomputed, 0);
}

// An eval.judge model adds its weights and a scoring pass to the learner.
TEST(MemoryPlanTest, TheJudgeModelIsCounted) {
  Job job = SmallJob();
  job.mutable_eval()->set_num_prompts(64);
  job.mutable_eval()->set_shifted_pairs(256);
  TransformerConfig judge;
  judge.d_model = 256;
  judge.n_layers = 6;
  const MemoryPlan without = PlanMemory(job, {}, {});
  const MemoryPlan with = PlanMemory(job, {}, {}, judge);
  auto item = [&](const std::string& name) {
    for (const MemoryItem& i : with.ranks[0].items) {
      if (i.name == name) return i.bytes;
    }
    return -1.0;
  };
  EXPECT_DOUBLE_EQ(item("judge model weights (learner 0)"),
                   4 * ParameterCount(judge, false));
  EXPECT_GT(item("judge scoring (learner 0)"), 0);
  EXPECT_DOUBLE_EQ(with.ranks[0].TotalBytes(),
                   without.ranks[0].TotalBytes() +
                       item("judge model weights (learner 0)") +
                       item("judge scoring (learner 0)"));
  // The rollout worker does not hold it.
  EXPECT_DOUBLE_EQ(with.ranks[1].TotalBytes(), without.ranks[1].TotalBytes());
}

TEST(MemoryPlanTest, BytesReadWell) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(400.0 * (1 << 20)), "400 MiB");
  EXPECT_EQ(FormatBytes(5.3 * (1ull << 40)), "5.3 TiB");
}

}  // namespace
}  // namespace metarm
