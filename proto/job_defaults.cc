#include "proto/job_defaults.h"

#include "absl/strings/str_cat.h"

namespace metarm {
namespace {

// Sets `field` of `*message` to `value` unless the job file set it.
#define METARM_DEFAULT(message, field, value) \
  if (!(message)->has_##field()) (message)->set_##field(value)

void ApplyTopologyDefaults(Topology* topology) {
  METARM_DEFAULT(topology, learner_ranks, 1);
  METARM_DEFAULT(topology, rollout_ranks, 1);
  if (topology->placement() == PLACEMENT_UNSPECIFIED) {
    topology->set_placement(SEPARATE);
  }
  if (topology->backend() == COMM_BACKEND_UNSPECIFIED) {
    topology->set_backend(AUTO);
  }
  METARM_DEFAULT(topology, device, "auto");
  METARM_DEFAULT(topology, shard_optimizer_state, false);
  METARM_DEFAULT(topology, collective_timeout_seconds, 1800);
}

void ApplyModelDefaults(ModelSpec* model) {
  METARM_DEFAULT(model, vocab_size, 0);
  METARM_DEFAULT(model, d_model, 64);
  METARM_DEFAULT(model, n_layers, 2);
  METARM_DEFAULT(model, n_heads, 4);
  METARM_DEFAULT(model, d_ff, 0);
  METARM_DEFAULT(model, max_seq_len, 128);
  METARM_DEFAULT(model, dropout, 0.0);
  if (model->positions() == POSITION_ENCODING_UNSPECIFIED) {
    model->set_positions(LEARNED);
  }
}

void ApplyTaskDefaults(TaskSpec* task) {
  if (task->tokenizer().empty()) task->set_tokenizer("byte");
  METARM_DEFAULT(task, label_temperature, 0.5);
  METARM_DEFAULT(task, num_train_prompts, 512);
  METARM_DEFAULT(task, num_eval_prompts, 64);
  METARM_DEFAULT(task, num_preference_pairs, 2048);
  METARM_DEFAULT(task, max_prompt_tokens, 32);
  METARM_DEFAULT(task, max_response_tokens, 32);
  METARM_DEFAULT(task, held_out_fraction, 0.1);
  if (task->chat_template() == CHAT_TEMPLATE_UNSPECIFIED) {
    task->set_chat_template(HH);
  }
}

void ApplySftDefaults(SftSpec* sft) {
  METARM_DEFAULT(sft, learning_rate, 1e-3);
  METARM_DEFAULT(sft, steps, 200);
  METARM_DEFAULT(sft, batch_size, 32);
  METARM_DEFAULT(sft, micro_batch_size, 0);
}

void ApplyRewardTrainingDefaults(RewardTraining* reward) {
  if (reward->mode() == REWARD_MODE_UNSPECIFIED) reward->set_mode(METARM);
  METARM_DEFAULT(reward, eta, 0.1);
  METARM_DEFAULT(reward, learning_rate, 1e-3);
  METARM_DEFAULT(reward, weight_decay, 0.0);
  METARM_DEFAULT(reward, batch_size, 16);
  METARM_DEFAULT(reward, meta_batch_size, 16);
  METARM_DEFAULT(reward, responses_per_prompt, 5);
  METARM_DEFAULT(reward, epochs, 1);
  METARM_DEFAULT(reward, restart_each_round, false);
  METARM_DEFAULT(reward, gap_lambda, 0.1);
  METARM_DEFAULT(reward, micro_batch_size, 0);
  METARM_DEFAULT(reward, meta_micro_batch_size, 0);
}

void ApplyPpoDefaults(PpoSpec* ppo) {
  METARM_DEFAULT(ppo, policy_learning_rate, 1e-4);
  METARM_DEFAULT(ppo, value_learning_rate, 5e-4);
  METARM_DEFAULT(ppo, clip_range, 0.2);
  METARM_DEFAULT(ppo, value_clip_range, 0.2);
  METARM_DEFAULT(ppo, gamma, 1.0);
  METARM_DEFAULT(ppo, lambda, 0.95);
  METARM_DEFAULT(ppo, kl_coef, 0.05);
  METARM_DEFAULT(ppo, kl_target, 0.0);
  METARM_DEFAULT(ppo, reward_clip, 5.0);
  METARM_DEFAULT(ppo, entropy_coef, 0.0);
  METARM_DEFAULT(ppo, epochs, 2);
  METARM_DEFAULT(ppo, minibatch_size, 16);
  METARM_DEFAULT(ppo, rollout_batch_size, 64);
  METARM_DEFAULT(ppo, iterations_per_round, 20);
  METARM_DEFAULT(ppo, temperature, 1.0);
  METARM_DEFAULT(ppo, top_p, 1.0);
  METARM_DEFAULT(ppo, max_staleness, 0);
  METARM_DEFAULT(ppo, max_skipped_updates, 3);
  METARM_DEFAULT(ppo, micro_batch_size, 0);
}

void ApplyCheckpointDefaults(CheckpointSpec* checkpoint) {
  METARM_DEFAULT(checkpoint, every_iterations, 0);
  METARM_DEFAULT(checkpoint, keep_last, 2);
}

void ApplyLoggingDefaults(LoggingSpec* logging) {
  METARM_DEFAULT(logging, progress, true);
  METARM_DEFAULT(logging, tensorboard, true);
}

void ApplyGenerationDefaults(GenerationSpec* generation) {
  METARM_DEFAULT(generation, max_sequences, 64);
  METARM_DEFAULT(generation, kv_block_tokens, 16);
  METARM_DEFAULT(generation, kv_pool_blocks, 0);
  METARM_DEFAULT(generation, share_prompts, true);
}

void ApplyEvalDefaults(EvalSpec* eval) {
  METARM_DEFAULT(eval, num_prompts, 64);
  METARM_DEFAULT(eval, tie_band, 0.05);
  METARM_DEFAULT(eval, shifted_pairs, 256);
  METARM_DEFAULT(eval, best_of_n, 0);
}

#undef METARM_DEFAULT

}  // namespace

void ApplyJobDefaults(Job* job) {
  if (!job->has_seed()) job->set_seed(1);
  if (!job->has_arm_seed()) job->set_arm_seed(0);
  if (job->output_dir().empty()) {
    job->set_output_dir(absl::StrCat("runs/", job->name()));
  }
  if (job->kind() == JOB_KIND_UNSPECIFIED) job->set_kind(RLHF);
  if (!job->has_rounds()) job->set_rounds(2);
  ApplyTopologyDefaults(job->mutable_topology());
  ApplyModelDefaults(job->mutable_policy());
  ApplyModelDefaults(job->mutable_reward_model());
  ApplyTaskDefaults(job->mutable_task());
  ApplySftDefaults(job->mutable_sft());
  ApplyRewardTrainingDefaults(job->mutable_reward_training());
  ApplyPpoDefaults(job->mutable_ppo());
  // Generation may fill the whole response budget unless told otherwise.
  if (!job->ppo().has_max_new_tokens()) {
    job->mutable_ppo()->set_max_new_tokens(job->task().max_response_tokens());
  }
  ApplyCheckpointDefaults(job->mutable_checkpoint());
  ApplyLoggingDefaults(job->mutable_logging());
  ApplyEvalDefaults(job->mutable_eval());
  ApplyGenerationDefaults(job->mutable_generation());
}

}  // namespace metarm
