// Supervised fine-tuning of the policy on demonstrations (round 0): next-token
// cross-entropy on the response tokens only, data parallel over the learners.
//
//   SftBatch batch = MakeSftBatch(prompts, demonstrations, limits, tok);
//   absl::StatusOr<SftStepResult> result =
//       SftStep(policy, optimizer, batch, learners, options, step);
#ifndef METARM_RLHF_SFT_H_
#define METARM_RLHF_SFT_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "model/token_batch.h"
#include "model/transformer.h"
#include "optim/data_parallel_optimizer.h"
#include "reward/reward_data.h"
#include "tasks/tokenizer.h"

namespace metarm {

struct SftBatch {
  TokenBatch sequences;  // [BOS] prompt response [EOS], left-padded
  // 1 where the token is part of the response or its end token: the
  // positions whose prediction is trained.
  torch::Tensor target_mask;
};

// Each prompt keeps its last limits.max_prompt_tokens tokens and each
// response its first limits.max_response_tokens, as for preference pairs.
SftBatch MakeSftBatch(const std::vector<std::string>& prompts,
                      const std::vector<std::string>& responses,
                      const SequenceLimits& limits, const Tokenizer& tokenizer);

// Next-token cross-entropy summed over the response tokens,
//   Σ_{t ∈ R} −log π(x_t | x_<t)  (|R| is counted from target_mask).
torch::Tensor SftLossSum(LanguageModel& policy, const SftBatch& batch);

// Learner 0's log of the SFT steps: step, loss, learning rate, gradient norm.
inline constexpr char kSftStepLog[] = "sft.jsonl";

// How the SFT steps are taken.
struct SftOptions {
  LrSchedule schedule;       // the rate of each step
  double max_grad_norm = 0;  // clip the gradient's norm to this (0: never)
  // Gradient accumulation: at most this many sequences in one forward pass
  // (0: the learner's whole share at once).
  int64_t micro_batch_size = 0;
};

struct SftStepResult {
  double loss = 0;  // L of the whole global batch
  StepReport step;  // the rate and the gradient norm
};

// One optimizer step on L = (1/|R|) Σ_{t ∈ R} −log π(x_t | x_<t) over the
// response tokens of the whole global batch: each learner scales its sum by
// the global |R| and the gradients are summed, so any number of learners
// takes the one-learner step, and so does any micro-batch size (each
// micro-batch's sum scaled by the same global |R|); step `step` of
// options.schedule.
absl::StatusOr<SftStepResult> SftStep(LanguageModel& policy,
                                      DataParallelOptimizer& optimizer,
                                      const SftBatch& batch,
                                      Communicator& learners,
                                      const SftOptions& options, int64_t step);

}  // namespace metarm

#endif  // METARM_RLHF_SFT_H_
