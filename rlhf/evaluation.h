// The per-round evaluation of an RLHF run, on learner 0, on held-out prompts
// (the same every round): the judge's score of the policy against the SFT
// policy's (the testbed's gold reward, or the judge reward model of
// eval.judge), the proxy's score and its accuracy on the original pairs and
// on fresh judge-labelled pairs of the policy's samples (the shifted
// distribution), the reward gaps, the KL to the reference and the response
// length.
//
// Each held-out prompt gets k = reward_training.responses_per_prompt
// samples of the policy, all judged, each against the same-numbered of k
// samples of the SFT policy (from a stream every round and every arm of a
// seed shares). Accuracies leave out pairs of identical responses. With
// eval.best_of_n, the round's reward model also picks the best of n shared
// SFT candidates per prompt, judged. Without a judge the judged metrics are
// absent and the output says so.
//
//   METARM_RETURN_IF_ERROR(EvaluateSft(in, models, output));
//   METARM_RETURN_IF_ERROR(EvaluateRound(in, round, models,
//                                        learner.reward_data.eval, output));
#ifndef METARM_RLHF_EVALUATION_H_
#define METARM_RLHF_EVALUATION_H_

#include <vector>

#include "absl/status/status.h"
#include "rlhf/run_parts.h"

namespace metarm {

// Round 0: the SFT policy (the reference) on the held-out prompts; one line
// of rounds.jsonl (with what the data files held, for file runs) and of
// eval_samples.jsonl.
absl::Status EvaluateSft(const RunInputs& in, RlhfModels& models,
                         RunOutput& output);

// Round `round` (≥ 1): the current policy; `held_out` are the original
// held-out pairs. Appends to rounds.jsonl and eval_samples.jsonl and prints
// the round's line.
absl::Status EvaluateRound(const RunInputs& in, int round, RlhfModels& models,
                           const std::vector<PreferencePair>& held_out,
                           RunOutput& output);

}  // namespace metarm

#endif  // METARM_RLHF_EVALUATION_H_
