#include "rlhf/sft.h"

#include <algorithm>

#include "comm/gradient_sync.h"
#include "util/status_macros.h"

namespace metarm {

SftBatch MakeSftBatch(const std::vector<std::string>& prompts,
                      const std::vector<std::string>& responses,
                      const SequenceLimits& limits,
                      const Tokenizer& tokenizer) {
  std::vector<TokenSequence> sequences;
  std::vector<TokenSequence> targets;
  for (size_t i = 0; i < prompts.size(); ++i) {
    TokenSequence prompt = tokenizer.Encode(prompts[i]);
    TokenSequence response = tokenizer.Encode(responses[i]);
    if (static_cast<int64_t>(prompt.size()) > limits.max_prompt_tokens) {
      prompt.erase(prompt.begin(), prompt.end() - limits.max_prompt_tokens);
    }
    if (static_cast<int64_t>(response.size()) > limits.max_response_tokens) {
      response.resize(limits.max_response_tokens);
    }
    TokenSequence sequence{tokenizer.bos_id()};
    sequence.insert(sequence.end(), prompt.begin(), prompt.end());
    sequence.insert(sequence.end(), response.begin(), response.end());
    sequence.push_back(tokenizer.eos_id());
    // Target flags ride through PadSequences as a second "sequence" of the
    // same length (1 = trained, 0 = prompt).
    TokenSequence target(1 + prompt.size(), 0);
    target.resize(sequence.size(), 1);
    sequences.push_back(std::move(sequence));
    targets.push_back(std::move(target));
  }
  TokenBatch batch = PadSequences(sequences, Padding::kLeft);
  return {batch, PadSequences(targets, Padding::kLeft).tokens};
}

torch::Tensor SftLossSum(LanguageModel& policy, const SftBatch& host_batch) {
  const torch::Device device = ModuleDevice(*policy);
  const SftBatch batch{host_batch.sequences.To(device),
                       host_batch.target_mask.to(device)};
  const int64_t length = batch.sequences.tokens.size(1);
  torch::Tensor logits =
      policy->forward(batch.sequences.tokens, batch.sequences.mask);
  // Position t predicts token t + 1.
  torch::Tensor predicted = logits.narrow(1, 0, length - 1);
  torch::Tensor next = batch.sequences.tokens.narrow(1, 1, length - 1);
  torch::Tensor trained =
      batch.target_mask.narrow(1, 1, length - 1).to(predicted.scalar_type());
  torch::Tensor log_probs =
      torch::log_softmax(predicted, -1).gather(2, next.unsqueeze(2)).squeeze(2);
  return -(log_probs * trained).sum();
}

absl::StatusOr<SftStepResult> SftStep(LanguageModel& policy,
                                      DataParallelOptimizer& optimizer,
                                      const SftBatch& batch,
                                      Communicator& learners,
                                      const SftOptions& options, int64_t step) {
  optimizer.ZeroGrad();
  // |R| of the global batch first (counted from the masks: position t
  // predicts token t + 1), so that every micro-batch's sum can be scaled by
  // it before its backward pass.
  const int64_t length = batch.target_mask.size(1);
  torch::Tensor tokens = batch.target_mask.narrow(1, 1, length - 1)
                             .sum()
                             .to(torch::kFloat64)
                             .reshape({1});
  if (learners.size() > 1) {
    METARM_RETURN_IF_ERROR(learners.AllReduce(tokens, ReduceOp::kSum));
  }
  const double global_tokens = std::max(1.0, tokens.item<double>());
  double loss_sum = 0;
  for (RowRange range :
       MicroBatches(batch.sequences.size(), options.micro_batch_size)) {
    const SftBatch micro{batch.sequences.Rows(range.begin, range.count),
                         batch.target_mask.narrow(0, range.begin, range.count)};
    torch::Tensor micro_sum = SftLossSum(policy, micro);
    loss_sum += micro_sum.item<double>();
    (micro_sum / global_tokens).backward();
  }
  torch::Tensor total = torch::tensor({loss_sum}, torch::kFloat64);
  if (learners.size() > 1) {
    METARM_RETURN_IF_ERROR(learners.AllReduce(total, ReduceOp::kSum));
  }
  METARM_RETURN_IF_ERROR(optimizer.ReduceGradients(GradientReduction::kSum));
  SftStepResult result;
  result.loss = total.item<double>() / global_tokens;
  METARM_ASSIGN_OR_RETURN(
      result.step,
      ScheduledStep(optimizer, options.schedule, step, options.max_grad_norm));
  return result;
}

}  // namespace metarm
