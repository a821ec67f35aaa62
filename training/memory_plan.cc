#include "training/memory_plan.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "model/hf_checkpoint.h"
#include "model/weights_io.h"
#include "training/job_options.h"
#include "training/model_factory.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

constexpr double kFloatBytes = 4;

double NormParameters(const TransformerConfig& c) {
  return c.norm == NormKind::kLayerNorm ? 2.0 * c.d_model : c.d_model;
}

double MlpWidth(const TransformerConfig& c) {
  return c.mlp == MlpKind::kSwiGlu ? 2.0 * c.d_ff : c.d_ff;
}

// Tokens of the longest sequence the job makes: prompt, response, BOS, EOS,
// as far as the model holds them.
double SequenceTokens(const Job& job, const TransformerConfig& config) {
  const double longest = static_cast<double>(job.task().max_prompt_tokens()) +
                         job.task().max_response_tokens() + 2;
  return std::min<double>(longest, config.max_seq_len);
}

// Bytes per activation value: bf16 models keep most of theirs (the matrix
// products' outputs, the keys and values) in bfloat16; the float32 residual
// stream is left out of this approximation.
double ActivationBytes(const TransformerConfig& c) {
  return c.bf16 ? 2.0 : kFloatBytes;
}

// Floats autograd keeps per token of one sequence in a training step, in
// the blocks: per block the normed inputs, q, k, v, the attention output
// and its projection, the residual sums, the MLP's hidden layer before and
// after its activation, and two T-long rows of attention scores per head
// (the scores and their softmax). With activation checkpointing only each
// block's input is kept, and one block's set at a time while it is
// recomputed.
double TrainingBlockFloatsPerToken(const TransformerConfig& c, double tokens) {
  const double per_block =
      9.0 * c.d_model + MlpWidth(c) + c.d_ff + 2.0 * c.n_heads * tokens;
  return c.activation_checkpointing ? c.n_layers * c.d_model + per_block
                                    : c.n_layers * per_block;
}

// The blocks' activations (2 bytes each in a bf16 model), then the head's
// float32 logits, their log-softmax and gradient (or the one value).
double TrainingActivations(const TransformerConfig& c, double sequences,
                           double tokens, bool lm_head) {
  return sequences * tokens *
         (ActivationBytes(c) * TrainingBlockFloatsPerToken(c, tokens) +
          kFloatBytes * (lm_head ? 3.0 * c.vocab_size : 1.0));
}

// A forward pass without gradients keeps one block's working set at a time
// and the float32 logits.
double ScoringActivations(const TransformerConfig& c, double sequences,
                          double tokens, bool lm_head) {
  const double block =
      6.0 * c.d_model + MlpWidth(c) + c.d_ff + 2.0 * c.n_heads * tokens;
  return sequences * tokens *
         (ActivationBytes(c) * block +
          kFloatBytes * (lm_head ? 2.0 * c.vocab_size : 1.0));
}

// Keys and values of every layer for `rows` sequences of `tokens`.
double KvCache(const TransformerConfig& c, double rows, double tokens) {
  return ActivationBytes(c) * 2.0 * c.n_layers * c.kv_heads() * c.head_dim() *
         rows * tokens;
}

// The generation engine's KV pool (rollout/generation_engine.h):
// generation.kv_pool_blocks blocks, or by default enough for `sequences`
// (at most generation.max_sequences) of `tokens` each, block 0 included.
double KvPool(const Job& job, const TransformerConfig& c, double sequences,
              double tokens) {
  const GenerationSpec& g = job.generation();
  const double block = std::max<double>(1, g.kv_block_tokens());
  const double blocks =
      g.kv_pool_blocks() > 0
          ? g.kv_pool_blocks()
          : 1 + std::min<double>(g.max_sequences(), sequences) *
                    std::ceil(tokens / block);
  return KvCache(c, blocks, block);
}

double PerLearner(double count, double learners) {
  return std::ceil(count / learners);
}

bool MetaMode(const Job& job) {
  return job.reward_training().mode() != VANILLA;
}

// Rows in one forward pass: the learner's share, or its micro-batch when
// the job sets a smaller one.
double ForwardRows(double share, uint32_t micro_batch_size) {
  return micro_batch_size > 0 ? std::min<double>(share, micro_batch_size)
                              : share;
}

// The largest training step of a learner, as one forward pass holds it: an
// SFT micro-batch, a reward-model one (both sides of its pairs; for the
// MetaRM modes the meta batch's k responses per prompt, whose graph is
// freed before the pairs' is built), or a PPO one (policy and critic).
MemoryItem LargestTrainingStep(const Job& job, const TransformerConfig& policy,
                               const TransformerConfig& reward) {
  const double n = job.topology().learner_ranks();
  const double t_policy = SequenceTokens(job, policy);
  const double t_reward = SequenceTokens(job, reward);
  const RewardTraining& rt = job.reward_training();
  double reward_sequences =
      2.0 * ForwardRows(PerLearner(rt.batch_size(), n), rt.micro_batch_size());
  if (MetaMode(job)) {
    reward_sequences = std::max(reward_sequences,
                                ForwardRows(PerLearner(rt.meta_batch_size(), n),
                                            rt.meta_micro_batch_size()) *
                                    rt.responses_per_prompt());
  }
  const double ppo_rows = ForwardRows(PerLearner(job.ppo().minibatch_size(), n),
                                      job.ppo().micro_batch_size());
  std::vector<MemoryItem> steps = {
      {"activations of an SFT step",
       TrainingActivations(policy,
                           ForwardRows(PerLearner(job.sft().batch_size(), n),
                                       job.sft().micro_batch_size()),
                           t_policy, true)},
      {"activations of a reward-model step",
       TrainingActivations(reward, reward_sequences, t_reward, false)},
      {"activations of a PPO minibatch",
       TrainingActivations(policy, ppo_rows, t_policy, true) +
           TrainingActivations(WithTrainingSettingsOf(reward, policy), ppo_rows,
                               t_reward, false)},
  };
  if (job.kind() == REWARD_MODEL_ONLY) return steps[1];
  return *std::max_element(steps.begin(), steps.end(),
                           [](const MemoryItem& a, const MemoryItem& b) {
                             return a.bytes < b.bytes;
                           });
}

void AddLearnerItems(const Job& job, const TransformerConfig& policy,
                     const TransformerConfig& reward, RankMemory& rank) {
  const double n = job.topology().learner_ranks();
  const double moments_share = job.topology().shard_optimizer_state() ? n : 1;
  const double p = ParameterCount(policy, true) * kFloatBytes;
  const double r = ParameterCount(reward, false) * kFloatBytes;
  auto add = [&rank](std::string name, double bytes) {
    rank.items.push_back({std::move(name), bytes});
  };
  add("reward model weights + gradients", 2 * r);
  // Autocast's bfloat16 copies of a bf16 model's weights, alive during a
  // pass.
  if (reward.bf16) add("reward model bf16 weight casts", r / 2);
  add("reward model AdamW moments", 2 * r / moments_share);
  if (MetaMode(job)) add("MetaRM's adapted weights and saved gradient", 2 * r);
  rank.items.push_back(LargestTrainingStep(job, policy, reward));
  if (job.kind() == REWARD_MODEL_ONLY) return;
  add("policy weights + gradients", 2 * p);
  if (policy.bf16) add("policy and critic bf16 weight casts", p / 2 + r / 2);
  add("policy AdamW moments", 2 * p / moments_share);
  add("reference policy", p);
  add("critic weights + gradients + AdamW moments",
      2 * r + 2 * r / moments_share);
  // Every learner holds the whole iteration's batch: tokens, masks, old and
  // reference log-probabilities, scores, values, advantages, returns.
  add("the PPO experience batch", kFloatBytes * 8.0 *
                                      job.ppo().rollout_batch_size() *
                                      SequenceTokens(job, policy));
  // The learners' largest sampling run: the original pairs, the meta set,
  // the evaluation or the shifted pairs.
  const double k =
      std::max<double>(2, job.reward_training().responses_per_prompt());
  const double rows = std::max({2.0 * job.task().num_preference_pairs(),
                                k * job.task().num_train_prompts(),
                                k * job.eval().num_prompts(),
                                2.0 * job.eval().shifted_pairs()});
  add("KV pool of the learners' sampling (meta set, pairs, evaluation)",
      KvPool(job, policy, rows, SequenceTokens(job, policy)));
}

void AddRolloutItems(const Job& job, const TransformerConfig& policy,
                     const TransformerConfig& reward, bool also_learner,
                     RankMemory& rank) {
  const double p = ParameterCount(policy, true) * kFloatBytes;
  const double r = ParameterCount(reward, false) * kFloatBytes;
  const double share =
      std::ceil(static_cast<double>(job.ppo().rollout_batch_size()) /
                job.topology().rollout_ranks());
  const double t = SequenceTokens(job, policy);
  if (!also_learner) {
    rank.items.push_back({"policy weights", p});
    rank.items.push_back({"reference policy", p});
    rank.items.push_back({"reward model weights", r});
  } else if (job.ppo().max_staleness() > 0) {
    rank.items.push_back({"rollout copy of the policy", p});
  }
  rank.items.push_back(
      {"KV pool of the rollout batch", KvPool(job, policy, share, t)});
  rank.items.push_back({"scoring the rollout batch",
                        ScoringActivations(policy, share, t, true)});
}

double ReadMemTotal() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") return kib * 1024;
    meminfo.ignore(256, '\n');
  }
  const double pages = ::sysconf(_SC_PHYS_PAGES);
  return pages * ::sysconf(_SC_PAGESIZE);
}

// The cgroup (v2) memory limit, or 0 without one.
double ReadCgroupLimit() {
  std::ifstream limit("/sys/fs/cgroup/memory.max");
  std::string text;
  if (!(limit >> text) || text == "max") return 0;
  return std::atof(text.c_str());
}

}  // namespace

double RankMemory::TotalBytes() const {
  double total = 0;
  for (const MemoryItem& item : items) total += item.bytes;
  return total;
}

const MemoryItem& RankMemory::Largest() const {
  return *std::max_element(items.begin(), items.end(),
                           [](const MemoryItem& a, const MemoryItem& b) {
                             return a.bytes < b.bytes;
                           });
}

double ParameterCount(const TransformerConfig& c, bool lm_head) {
  const double d = c.d_model;
  const double attention_width = static_cast<double>(c.n_heads) * c.head_dim();
  const double qkv_width = double(c.n_heads + 2 * c.kv_heads()) * c.head_dim();
  double block = 2 * NormParameters(c);
  block += d * qkv_width + (c.bias || c.qkv_bias ? qkv_width : 0);
  block += attention_width * d + (c.bias ? d : 0);
  block += d * MlpWidth(c) + (c.bias ? MlpWidth(c) : 0);
  block += static_cast<double>(c.d_ff) * d + (c.bias ? d : 0);
  double total = static_cast<double>(c.vocab_size) * d;  // token embedding
  if (!c.rotary)
    total += static_cast<double>(c.max_seq_len) * d;  // learned positions
  total += c.n_layers * block + NormParameters(c);
  if (lm_head) {
    if (!c.tie_embeddings) total += d * c.vocab_size;
  } else {
    total += d + 1;  // the scalar head
  }
  return total;
}

// The eval.judge model on learner 0 (counted on every learner: the plan has
// one line per kind of rank): its weights, and one scoring pass over an
// evaluation's responses (the policy's and the SFT policy's per prompt, or
// both sides of the fresh pairs, whichever is more).
void AddJudgeItems(const Job& job, const TransformerConfig& judge,
                   RankMemory& rank) {
  rank.items.push_back({"judge model weights (learner 0)",
                        ParameterCount(judge, false) * kFloatBytes});
  const double rows =
      2.0 * std::max(job.eval().num_prompts(), job.eval().shifted_pairs());
  rank.items.push_back(
      {"judge scoring (learner 0)",
       ScoringActivations(judge, rows, SequenceTokens(job, judge), false)});
}

MemoryPlan PlanMemory(const Job& job, const TransformerConfig& policy,
                      const TransformerConfig& reward_model,
                      const std::optional<TransformerConfig>& judge) {
  MemoryPlan plan;
  const bool colocated = job.topology().placement() == COLOCATED;
  if (job.kind() == REWARD_MODEL_ONLY) {
    RankMemory rank{"rank", {}};
    AddLearnerItems(job, policy, reward_model, rank);
    plan.ranks.push_back(std::move(rank));
    return plan;
  }
  RankMemory learner{colocated ? "learner + rollout worker" : "learner", {}};
  AddLearnerItems(job, policy, reward_model, learner);
  if (judge.has_value()) AddJudgeItems(job, *judge, learner);
  if (colocated) {
    AddRolloutItems(job, policy, reward_model, true, learner);
    plan.ranks.push_back(std::move(learner));
    return plan;
  }
  plan.ranks.push_back(std::move(learner));
  RankMemory rollout{"rollout worker", {}};
  AddRolloutItems(job, policy, reward_model, false, rollout);
  plan.ranks.push_back(std::move(rollout));
  return plan;
}

absl::StatusOr<JobModelConfigs> MakeJobModelConfigs(const Job& job) {
  METARM_ASSIGN_OR_RETURN(std::unique_ptr<ChatTokenizer> tokenizer,
                          MakeJobTokenizer(job.task()), "task.tokenizer");
  const SequenceLimits limits{job.task().max_prompt_tokens(),
                              job.task().max_response_tokens()};
  JobModelConfigs configs;
  METARM_ASSIGN_OR_RETURN(
      configs.policy, ModelConfig(job.policy(), "policy", *tokenizer, limits));
  METARM_ASSIGN_OR_RETURN(
      configs.reward_model,
      ModelConfig(job.reward_model(), "reward_model", *tokenizer, limits));
  const std::string& judge = job.eval().judge();
  if (!judge.empty() && job.kind() != REWARD_MODEL_ONLY) {
    // A Hugging Face folder or a metarm weights file (rlhf/judge.h).
    METARM_ASSIGN_OR_RETURN(configs.judge,
                            PathExists(judge + "/config.json")
                                ? ReadHfConfig(judge)
                                : ReadWeightsConfig(judge),
                            "eval.judge");
  }
  return configs;
}

absl::StatusOr<MemoryPlan> PlanJobMemory(const Job& job) {
  METARM_ASSIGN_OR_RETURN(JobModelConfigs configs, MakeJobModelConfigs(job));
  return PlanMemory(job, configs.policy, configs.reward_model, configs.judge);
}

double RankMemoryLimit(double limit_gib, int ranks_on_this_machine) {
  if (limit_gib > 0) return limit_gib * (1 << 30);
  double machine = ReadMemTotal();
  const double cgroup = ReadCgroupLimit();
  if (cgroup > 0) machine = std::min(machine, cgroup);
  return machine / std::max(1, ranks_on_this_machine);
}

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 6) {
    bytes /= 1024;
    ++unit;
  }
  return absl::StrFormat(bytes < 10 && unit > 0 ? "%.1f %s" : "%.0f %s", bytes,
                         units[unit]);
}

std::string FormatMemoryPlan(const MemoryPlan& plan, double limit_bytes) {
  std::string text = absl::StrCat("memory per rank (estimate; limit ",
                                  FormatBytes(limit_bytes), "):\n");
  for (const RankMemory& rank : plan.ranks) {
    std::vector<MemoryItem> items = rank.items;
    std::sort(items.begin(), items.end(),
              [](const MemoryItem& a, const MemoryItem& b) {
                return a.bytes > b.bytes;
              });
    // The four largest items, then the rest together.
    std::vector<std::string> parts;
    double rest = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i < 4) {
        parts.push_back(
            absl::StrCat(items[i].name, " ", FormatBytes(items[i].bytes)));
      } else {
        rest += items[i].bytes;
      }
    }
    if (items.size() > 4) {
      const size_t more = items.size() - 4;
      parts.push_back(absl::StrCat(
          more, more == 1 ? " more item " : " more items ", FormatBytes(rest)));
    }
    absl::StrAppend(&text, "  ", rank.role, ": ",
                    FormatBytes(rank.TotalBytes()), " (",
                    absl::StrJoin(parts, ", "), ")\n");
  }
  return text;
}

absl::Status CheckMemoryPlan(const MemoryPlan& plan, double limit_bytes,
                             const std::string& limit_source) {
  for (const RankMemory& rank : plan.ranks) {
    if (rank.TotalBytes() <= limit_bytes) continue;
    const MemoryItem& largest = rank.Largest();
    return absl::FailedPreconditionError(absl::StrCat(
        "the job does not fit in memory: a ", rank.role, " needs about ",
        FormatBytes(rank.TotalBytes()), " (the largest item: ", largest.name,
        ", ", FormatBytes(largest.bytes), "), and a rank may use ",
        FormatBytes(limit_bytes), " (", limit_source,
        "). Make the models or batches smaller, shard the optimizer state "
        "(topology.shard_optimizer_state) or use more learners"));
  }
  return absl::OkStatus();
}

}  // namespace metarm
