#include "proto/job_validation.h"

#include <algorithm>
#include <limits>

#include "gtest/gtest.h"
#include "proto/job_defaults.h"
#include "proto/job_io.h"
#include "proto/job_loader.h"

namespace metarm {
namespace {

const ValidationContext kContext{{"preference_file", "toy"}};
// RLHF jobs below use the testbed-like task "toy".

Job ValidJob() {
  Job job;
  job.set_name("valid");
  job.mutable_task()->set_name("toy");
  ApplyJobDefaults(&job);
  return job;
}

bool Contains(const std::vector<std::string>& problems,
              const std::string& line) {
  return std::find(problems.begin(), problems.end(), line) != problems.end();
}

std::string Joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += p + "\n";
  return out;
}

TEST(ValidateJobTest, DefaultsAreValid) {
  std::vector<std::string> problems = ValidateJob(ValidJob(), kContext);
  EXPECT_TRUE(problems.empty()) << Joined(problems);
}

TEST(ValidateJobTest, ClipRangeOutsideOpenUnitInterval) {
  Job job = ValidJob();
  job.mutable_ppo()->set_clip_range(1.5);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(problems, "ppo.clip_range: must be in (0, 1), got 1.5"))
      << Joined(problems);
}

TEST(ValidateJobTest, ReportsEveryProblemAtOnce) {
  Job job = ValidJob();
  job.mutable_ppo()->set_clip_range(0);
  job.mutable_reward_training()->set_eta(-1);
  job.mutable_policy()->set_n_heads(5);  // does not divide 64
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_EQ(problems.size(), 3u) << Joined(problems);
  EXPECT_TRUE(Contains(problems, "ppo.clip_range: must be in (0, 1), got 0"));
  EXPECT_TRUE(Contains(problems, "reward_training.eta: must be >= 0, got -1"));
  EXPECT_TRUE(
      Contains(problems, "policy.n_heads: must divide d_model (64), got 5"));
}

TEST(ValidateJobTest, NamesThatLeaveTheRunsFolderAreRefused) {
  for (const std::string name : {"..", ".", "a/b", ""}) {
    Job job = ValidJob();
    job.set_name(name);
    std::vector<std::string> problems = ValidateJob(job, kContext);
    ASSERT_EQ(problems.size(), 1u) << name << "\n" << Joined(problems);
    EXPECT_EQ(problems[0].rfind("name: must be non-empty letters", 0), 0u)
        << problems[0];
  }
  Job dotted = ValidJob();
  dotted.set_name("v1.2");
  EXPECT_TRUE(ValidateJob(dotted, kContext).empty());
}

TEST(ValidateJobTest, SchedulesAreChecked) {
  Job job = ValidJob();
  job.mutable_sft()->mutable_schedule()->set_max_grad_norm(-1);
  job.mutable_reward_training()->mutable_schedule()->set_min_lr_ratio(1.5);
  job.mutable_ppo()->mutable_schedule()->set_max_grad_norm(
      std::numeric_limits<double>::quiet_NaN());
  std::vector<std::string> problems = ValidateJob(job, kContext);
  const std::string all = Joined(problems);
  ASSERT_EQ(problems.size(), 3u) << all;
  EXPECT_NE(all.find("sft.schedule.max_grad_norm"), std::string::npos) << all;
  EXPECT_NE(all.find("reward_training.schedule.min_lr_ratio"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("ppo.schedule.max_grad_norm"), std::string::npos) << all;
  Job fine = ValidJob();
  TrainingSchedule* schedule = fine.mutable_ppo()->mutable_schedule();
  schedule->set_max_grad_norm(1);
  schedule->set_warmup_steps(10);
  schedule->set_decay(COSINE);
  schedule->set_min_lr_ratio(1);
  EXPECT_TRUE(ValidateJob(fine, kContext).empty());
}

TEST(ValidateJobTest, UnknownTaskListsTheKnownOnes) {
  Job job = ValidJob();
  job.mutable_task()->set_name("chess");
  std::vector<std::string> problems = ValidateJob(job, kContext);
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_EQ(problems[0],
            "task.name: unknown task \"chess\", one of: preference_file, toy");
}

TEST(ValidateJobTest, MissingDataFileIsNamed) {
  Job job = ValidJob();
  job.mutable_task()->set_train_pairs("/nonexistent/pairs.jsonl");
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(
      problems, "task.train_pairs: no such file: /nonexistent/pairs.jsonl"))
      << Joined(problems);
}

TEST(ValidateJobTest, TokenizerAndCheckpointPathsAreChecked) {
  Job job = ValidJob();
  job.mutable_task()->set_tokenizer("/nonexistent/gpt2");
  job.mutable_policy()->set_checkpoint("/nonexistent/llama");
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(problems,
                       "task.tokenizer: no such file or folder: "
                       "/nonexistent/gpt2"));
  EXPECT_TRUE(Contains(
      problems,
      "policy.checkpoint: no such file: /nonexistent/llama/config.json"));
}

TEST(ValidateJobTest, DeviceAndBackendAreChecked) {
  Job job = ValidJob();
  job.mutable_topology()->set_device("cuda:x");
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(problems,
                       "topology.device: device \"cuda:x\": expected auto, "
                       "cpu, cuda or cuda:N"));
  job.mutable_topology()->set_device("cpu");
  job.mutable_topology()->set_backend(NCCL);
  problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(
      problems,
      "topology.backend: NCCL moves CUDA tensors; topology.device is cpu"));
}

TEST(ValidateJobTest, BatchesMustShardEvenlyOverLearners) {
  Job job = ValidJob();
  job.mutable_topology()->set_learner_ranks(3);
  job.mutable_ppo()->set_minibatch_size(16);
  job.mutable_ppo()->set_rollout_batch_size(48);
  job.mutable_reward_training()->set_batch_size(16);
  job.mutable_reward_training()->set_meta_batch_size(15);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(problems,
                       "reward_training.batch_size: must be a multiple of "
                       "topology.learner_ranks (3), got 16"))
      << Joined(problems);
  EXPECT_TRUE(Contains(problems,
                       "ppo.minibatch_size: must be a multiple of "
                       "topology.learner_ranks (3), got 16"));
  EXPECT_FALSE(std::any_of(problems.begin(), problems.end(), [](auto& p) {
    return p.rfind("reward_training.meta_batch_size", 0) == 0;
  }));
}

TEST(ValidateJobTest, ColocatedNeedsEqualCounts) {
  Job job = ValidJob();
  job.mutable_topology()->set_placement(COLOCATED);
  job.mutable_topology()->set_learner_ranks(2);
  job.mutable_topology()->set_rollout_ranks(1);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(problems,
                       "topology.rollout_ranks: must equal learner_ranks (2) "
                       "when placement is COLOCATED, got 1"))
      << Joined(problems);
}

TEST(ValidateJobTest, ExplicitLearnerRanksChecked) {
  Job job = ValidJob();
  job.mutable_topology()->set_learner_ranks(2);
  job.mutable_topology()->set_rollout_ranks(1);
  job.mutable_ppo()->set_minibatch_size(16);
  job.mutable_topology()->add_learner_world_ranks(1);
  job.mutable_topology()->add_learner_world_ranks(1);
  job.mutable_topology()->add_learner_world_ranks(7);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(problems,
                       "topology.learner_world_ranks: must list learner_ranks "
                       "(2) ranks, got 3"))
      << Joined(problems);
  EXPECT_TRUE(Contains(problems,
                       "topology.learner_world_ranks: rank 1 is listed twice"));
  EXPECT_TRUE(Contains(problems,
                       "topology.learner_world_ranks: rank 7 is outside the "
                       "world of 3 ranks"));
}

TEST(ValidateJobTest, SequencesMustFitTheModels) {
  Job job = ValidJob();
  job.mutable_reward_model()->set_max_seq_len(40);
  job.mutable_ppo()->set_max_new_tokens(33);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(problems,
                       "reward_model.max_seq_len: must hold "
                       "task.max_prompt_tokens + task.max_response_tokens "
                       "+ 2 (66), got 40"))
      << Joined(problems);
  EXPECT_TRUE(
      Contains(problems,
               "ppo.max_new_tokens: must be <= task.max_response_tokens (32), "
               "got 33"));
}

TEST(ValidateJobTest, RewardModelOnlyJobIgnoresPpoAndNeedsAMetaSet) {
  Job job = ValidJob();
  job.set_kind(REWARD_MODEL_ONLY);
  job.mutable_ppo()->set_clip_range(7);
  job.mutable_policy()->set_n_heads(5);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_EQ(problems[0].rfind("task.meta_responses: must name the meta set", 0),
            0u);
  job.mutable_reward_training()->set_mode(VANILLA);
  EXPECT_TRUE(ValidateJob(job, kContext).empty());
}

TEST(ValidateJobTest, StalenessMustBeLessThanTheRoundsIterations) {
  Job job = ValidJob();
  job.mutable_ppo()->set_iterations_per_round(4);
  job.mutable_ppo()->set_max_staleness(3);
  EXPECT_TRUE(ValidateJob(job, kContext).empty());
  job.mutable_ppo()->set_max_staleness(4);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_EQ(problems[0],
            "ppo.max_staleness: must be less than ppo.iterations_per_round "
            "(4): rollouts run at most that many batches ahead within a "
            "round, got 4");
}

TEST(ValidateJobTest, GenerationSlotsAndPoolMustHoldOnePromptsResponses) {
  Job job = ValidJob();
  job.mutable_generation()->set_kv_pool_blocks(13);
  EXPECT_TRUE(ValidateJob(job, kContext).empty());
  // A 33-token prompt (begin token + task.max_prompt_tokens 32) with 5
  // responses of 32 tokens in blocks of 16: 2 shared prompt blocks + 5 × 2.
  job.mutable_generation()->set_kv_pool_blocks(12);
  job.mutable_generation()->set_max_sequences(4);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  ASSERT_EQ(problems.size(), 2u) << Joined(problems);
  EXPECT_EQ(problems[0],
            "generation.max_sequences: must be >= 5 (the most responses "
            "sampled to one prompt: 2 and "
            "reward_training.responses_per_prompt), got 4");
  EXPECT_EQ(problems[1],
            "generation.kv_pool_blocks: must be 0 (sized to max_sequences) or "
            ">= 13: one prompt of task.max_prompt_tokens with 5 responses of "
            "ppo.max_new_tokens needs 12 blocks of 16 tokens, and block 0 is "
            "reserved; got 12");
  // Without shared prompts each response holds its own prompt blocks.
  job.mutable_generation()->set_max_sequences(64);
  job.mutable_generation()->set_share_prompts(false);
  job.mutable_generation()->set_kv_pool_blocks(20);
  problems = ValidateJob(job, kContext);
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_NE(problems[0].find(">= 21"), std::string::npos) << problems[0];
}

TEST(CheckWorldSizeTest, MismatchNamesBothNumbers) {
  Job job = ValidJob();
  job.mutable_topology()->set_learner_ranks(2);
  job.mutable_topology()->set_rollout_ranks(1);
  EXPECT_TRUE(CheckWorldSize(job, 3).ok());
  absl::Status status = CheckWorldSize(job, 4);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "topology: the job needs 3 ranks (learner_ranks 2 + rollout_ranks "
            "1) but was started with 4 (mpirun -np / srun -n)");
}

TEST(CheckWorldSizeTest, ColocatedWorldIsTheLearnerCount) {
  Topology topology;
  topology.set_placement(COLOCATED);
  topology.set_learner_ranks(2);
  topology.set_rollout_ranks(2);
  EXPECT_EQ(RequiredWorldSize(topology), 2);
}

TEST(JobFromTextTest, PrefixesEveryProblem) {
  absl::StatusOr<Job> job = JobFromText(
      "name: \"x\" task { name: \"toy\" } ppo { gamma: 2 top_p: 0 }", "j",
      kContext);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().message(),
            "job error: ppo.gamma: must be in [0, 1], got 2\n"
            "job error: ppo.top_p: must be in (0, 1], got 0");
}

TEST(JobFromTextTest, ExplicitZeroIsKeptNotDefaulted) {
  absl::StatusOr<Job> job = JobFromText(
      "name: \"x\" task { name: \"toy\" } reward_training { eta: 0 }", "j",
      kContext);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->reward_training().eta(), 0.0);
  EXPECT_EQ(job->ppo().clip_range(), 0.2);
}

TEST(JobFromTextTest, RelativeDataPathsFollowTheJobFile) {
  Job job;
  job.mutable_task()->set_train_pairs("data/a.jsonl");
  job.mutable_task()->set_eval_pairs("/abs/b.jsonl");
  ResolveDataPaths("/jobs", &job);
  EXPECT_EQ(job.task().train_pairs(), "/jobs/data/a.jsonl");
  EXPECT_EQ(job.task().eval_pairs(), "/abs/b.jsonl");
}

TEST(JobFromTextTest, TokenizerAndCheckpointsFollowTheJobFileButByteStays) {
  Job job;
  job.mutable_task()->set_tokenizer("byte");
  job.mutable_policy()->set_checkpoint("models/gpt2");
  job.mutable_reward_model()->set_checkpoint("/abs/llama");
  ResolveDataPaths("/jobs", &job);
  EXPECT_EQ(job.task().tokenizer(), "byte");
  EXPECT_EQ(job.policy().checkpoint(), "/jobs/models/gpt2");
  EXPECT_EQ(job.reward_model().checkpoint(), "/abs/llama");
  job.mutable_task()->set_tokenizer("tok/tokenizer.model");
  ResolveDataPaths("/jobs", &job);
  EXPECT_EQ(job.task().tokenizer(), "/jobs/tok/tokenizer.model");
}

// The user's-data fields: files that must exist, read only by
// "preference_file" jobs; a judge only where there is no gold reward.
TEST(ValidateJobTest, DataFileFieldsAndJudge) {
  Job job = ValidJob();
  job.mutable_task()->set_train_prompts("/nonexistent/prompts.jsonl");
  job.mutable_task()->set_held_out_fraction(1.0);
  job.mutable_eval()->set_judge("/nonexistent/judge");
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_TRUE(Contains(
      problems, "task.train_prompts: no such file: /nonexistent/prompts.jsonl"))
      << Joined(problems);
  EXPECT_TRUE(Contains(problems,
                       "task.train_prompts: is read only when task.name is "
                       "\"preference_file\""))
      << Joined(problems);
  EXPECT_TRUE(
      Contains(problems, "task.held_out_fraction: must be in (0, 1), got 1"))
      << Joined(problems);
  EXPECT_TRUE(Contains(problems,
                       "eval.judge: is for \"preference_file\" jobs; the "
                       "testbed judges by its gold reward"))
      << Joined(problems);
  EXPECT_TRUE(Contains(
      problems, "eval.judge: no such file or folder: /nonexistent/judge"))
      << Joined(problems);
}

// A gold network is the testbed's; it must exist.
TEST(ValidateJobTest, GoldNetworkOnlyForTheTestbed) {
  Job job = ValidJob();
  job.mutable_task()->set_gold_network("/nonexistent/gold");
  EXPECT_EQ(
      ValidateJob(job, kContext),
      std::vector<std::string>{
          "task.gold_network: no such file or folder: /nonexistent/gold"});
  job.mutable_task()->set_gold_network("/dev/null");
  EXPECT_TRUE(ValidateJob(job, kContext).empty());
  job.mutable_task()->set_name("preference_file");
  job.mutable_task()->set_train_pairs("/dev/null");
  EXPECT_TRUE(Contains(ValidateJob(job, kContext),
                       "task.gold_network: is for the testbed tasks; a "
                       "\"preference_file\" job is judged by eval.judge"))
      << Joined(ValidateJob(job, kContext));
}

TEST(ValidateJobTest, BestOfNIsOffOrAtLeastTwoAndNeedsAJudge) {
  Job job = ValidJob();
  job.mutable_eval()->set_best_of_n(1);
  EXPECT_TRUE(Contains(ValidateJob(job, kContext),
                       "eval.best_of_n: must be 0 (off) or at least 2, got 1"));
  job.mutable_eval()->set_best_of_n(8);
  EXPECT_TRUE(ValidateJob(job, kContext).empty());  // the testbed's gold
  job.mutable_task()->set_name("preference_file");
  job.mutable_task()->set_train_pairs("/dev/null");
  EXPECT_TRUE(Contains(ValidateJob(job, kContext),
                       "eval.best_of_n: needs a judge for its picks: set "
                       "eval.judge"));
  job.mutable_eval()->set_judge("/dev/null");
  for (const std::string& problem : ValidateJob(job, kContext)) {
    EXPECT_EQ(problem.find("best_of_n"), std::string::npos) << problem;
  }
}

// An RLHF job on "preference_file" is valid (it once needed a testbed
// task), and rounds: 0 is SFT alone.
TEST(ValidateJobTest, RlhfOnPreferenceFileAndZeroRounds) {
  Job job = ValidJob();
  job.mutable_task()->set_name("preference_file");
  job.mutable_task()->set_train_pairs("/dev/null");
  job.set_rounds(0);
  std::vector<std::string> problems = ValidateJob(job, kContext);
  for (const std::string& problem : problems) {
    EXPECT_EQ(problem.find("task.name"), std::string::npos) << problem;
    EXPECT_EQ(problem.find("rounds"), std::string::npos) << problem;
  }
}

// A pretrained model's length is its config.json's: the spec's max_seq_len
// (ignored) is not checked against the task's lengths.
TEST(ValidateJobTest, PretrainedModelLengthNotCheckedFromTheSpec) {
  Job job = ValidJob();
  job.mutable_task()->set_max_prompt_tokens(500);
  job.mutable_policy()->set_checkpoint("/nonexistent/llama");
  std::vector<std::string> problems = ValidateJob(job, kContext);
  EXPECT_FALSE(Contains(problems,
                        "policy.max_seq_len: must hold task.max_prompt_tokens "
                        "+ task.max_response_tokens + 2 (534), got 128"))
      << Joined(problems);
  EXPECT_TRUE(Contains(problems,
                       "reward_model.max_seq_len: must hold "
                       "task.max_prompt_tokens + task.max_response_tokens + 2 "
                       "(534), got 128"))
      << Joined(problems);
}

}  // namespace
}  // namespace metarm
