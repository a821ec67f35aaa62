#include "training/job_options.h"

#include "tasks/tokenizer_factory.h"
#include "util/status_macros.h"

namespace metarm {

TransformerConfig ConfigFromSpec(const ModelSpec& spec,
                                 int64_t task_vocab_size) {
  TransformerConfig config;
  config.vocab_size =
      spec.vocab_size() > 0 ? spec.vocab_size() : task_vocab_size;
  config.d_model = spec.d_model();
  config.n_layers = spec.n_layers();
  config.n_heads = spec.n_heads();
  config.d_ff = spec.d_ff() > 0 ? spec.d_ff() : 4 * spec.d_model();
  config.max_seq_len = spec.max_seq_len();
  config.rotary = spec.positions() == ROTARY;
  config.dropout = spec.dropout();
  config.activation_checkpointing = spec.activation_checkpointing();
  config.bf16 = spec.precision() == BF16;
  return config;
}

RewardObjective ObjectiveOf(RewardMode mode) {
  switch (mode) {
    case VANILLA:
      return RewardObjective::kVanilla;
    case METARM_EXACT:
      return RewardObjective::kMetaRmExact;
    case GAP_REGULARIZED:
      return RewardObjective::kGapRegularized;
    default:  // METARM, and the default of an unset field
      return RewardObjective::kMetaRm;
  }
}

RewardTrainerOptions RewardTrainerOptionsOf(const Job& job) {
  const RewardTraining& spec = job.reward_training();
  RewardTrainerOptions options;
  options.mode = ObjectiveOf(spec.mode());
  options.eta = spec.eta();
  options.gap_lambda = spec.gap_lambda();
  options.learning_rate = spec.learning_rate();
  options.weight_decay = spec.weight_decay();
  options.shard_optimizer_state = job.topology().shard_optimizer_state();
  options.max_grad_norm = spec.schedule().max_grad_norm();
  options.micro_batch_size = spec.micro_batch_size();
  options.meta_micro_batch_size = spec.meta_micro_batch_size();
  return options;
}

TransformerConfig ForRewardTraining(const Job& job, TransformerConfig config) {
  if (job.reward_training().mode() == METARM_EXACT) {
    config.fused_attention = false;
  }
  return config;
}

LrSchedule LrScheduleOf(const TrainingSchedule& spec, double learning_rate,
                        int64_t total_steps) {
  LrSchedule schedule;
  schedule.base = learning_rate;
  schedule.warmup_steps = spec.warmup_steps();
  schedule.total_steps = total_steps;
  schedule.decay = spec.decay() == LINEAR   ? LrDecay::kLinear
                   : spec.decay() == COSINE ? LrDecay::kCosine
                                            : LrDecay::kConstant;
  schedule.min_ratio = spec.min_lr_ratio();
  return schedule;
}

ChatFormat ChatFormatOf(const TaskSpec& task) {
  switch (task.chat_template()) {
    case PLAIN:
      return ChatFormat::kPlain;
    case CHATML:
      return ChatFormat::kChatMl;
    case LLAMA3:
      return ChatFormat::kLlama3;
    default:
      return ChatFormat::kHh;
  }
}

absl::StatusOr<std::unique_ptr<ChatTokenizer>> MakeJobTokenizer(
    const TaskSpec& task) {
  METARM_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> base,
                          MakeTokenizer(task.tokenizer()));
  return ChatTokenizer::Make(std::move(base), ChatFormatOf(task),
                             task.tokenizer());
}

PpoSchedules PpoSchedulesOf(const Job& job) {
  const PpoSpec& ppo = job.ppo();
  const int64_t steps = int64_t{job.rounds()} * ppo.iterations_per_round() *
                        ppo.epochs() *
                        (ppo.rollout_batch_size() / ppo.minibatch_size());
  return {LrScheduleOf(ppo.schedule(), ppo.policy_learning_rate(), steps),
          LrScheduleOf(ppo.schedule(), ppo.value_learning_rate(), steps),
          ppo.schedule().max_grad_norm()};
}

}  // namespace metarm
