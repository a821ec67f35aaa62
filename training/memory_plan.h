// The memory plan: before any model is built, the bytes each kind of rank
// will hold for the job, item by item, so that a job that cannot fit is
// refused as bad input (exit 2) instead of growing memory until the machine
// runs out or dying inside LibTorch's allocator.
//
//   METARM_ASSIGN_OR_RETURN(MemoryPlan plan, PlanJobMemory(job));
//   std::cout << FormatMemoryPlan(plan, limit);
//   METARM_RETURN_IF_ERROR(CheckMemoryPlan(plan, limit, "host memory / 3"));
//
// What is counted (float32 everywhere, as the trainer computes): parameters,
// gradients and AdamW moments per model role (the moments divided over the
// learners with topology.shard_optimizer_state), the frozen reference and
// rollout copies, MetaRM's extra parameter-sized buffers, the activations
// autograd keeps for the largest training step (per layer and token: the
// block's inputs and outputs, the attention scores, the MLP's hidden layer;
// the vocabulary logits), the KV cache of the largest sampling batch, the
// PPO experience batch.
// Not counted: LibTorch's and MPI's own footprint (a few hundred MB per
// process), the data, allocator slack. The estimate against the measured
// peak is in tests/memory_plan_test.sh.
#ifndef METARM_TRAINING_MEMORY_PLAN_H_
#define METARM_TRAINING_MEMORY_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/transformer_config.h"
#include "proto/job.pb.h"

namespace metarm {

struct MemoryItem {
  std::string name;
  double bytes = 0;
};

// One kind of rank ("learner", "rollout worker", "learner + rollout
// worker") and what it holds.
struct RankMemory {
  std::string role;
  std::vector<MemoryItem> items;
  double TotalBytes() const;
  const MemoryItem& Largest() const;  // items must not be empty
};

struct MemoryPlan {
  std::vector<RankMemory> ranks;  // one per kind of rank the job has
};

// The parameters of a model of `config` with the LM head (`lm_head`) or the
// scalar head, exactly as model/transformer.h builds it (a double: absurd
// configurations must not overflow).
double ParameterCount(const TransformerConfig& config, bool lm_head);

// The plan from the job and its models' configurations (`judge`: the
// eval.judge model's, which learner 0 holds; none without one).
MemoryPlan PlanMemory(const Job& job, const TransformerConfig& policy,
                      const TransformerConfig& reward_model,
                      const std::optional<TransformerConfig>& judge = {});

// The job's models' configurations, made as the job would make them (the
// tokenizer's vocabulary, a checkpoint's config.json, the judge's config.json
// or weights file): errors name the field.
struct JobModelConfigs {
  TransformerConfig policy;
  TransformerConfig reward_model;
  std::optional<TransformerConfig> judge;  // eval.judge, when set
};
absl::StatusOr<JobModelConfigs> MakeJobModelConfigs(const Job& job);

// PlanMemory with the configurations MakeJobModelConfigs makes.
absl::StatusOr<MemoryPlan> PlanJobMemory(const Job& job);

// The bytes one rank may use: `limit_gib` when positive, else this machine's
// memory (the cgroup's limit if lower) divided by `ranks_on_this_machine`.
double RankMemoryLimit(double limit_gib, int ranks_on_this_machine);

// "memory per rank (estimate; limit 7.8 GiB):" then a line per kind of rank:
// "learner: 1.2 GiB (policy AdamW moments 400 MiB, ...)", the four largest
// items and the rest together.
std::string FormatMemoryPlan(const MemoryPlan& plan, double limit_bytes);

// FailedPrecondition (bad input) when a kind of rank needs more than
// `limit_bytes`, naming it, its total, the limit (`limit_source` says where
// the limit comes from) and its largest item.
absl::Status CheckMemoryPlan(const MemoryPlan& plan, double limit_bytes,
                             const std::string& limit_source);

// "1.2 GiB", "400 MiB", "12 KiB".
std::string FormatBytes(double bytes);

}  // namespace metarm

#endif  // METARM_TRAINING_MEMORY_PLAN_H_
