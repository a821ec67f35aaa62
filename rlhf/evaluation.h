// The per-round evaluation of an RLHF run, on learner 0, on held-out prompts
// (the same every round): the gold reward against the SFT policy's, the
// proxy's score and accuracy on the original and on fresh shifted pairs, the
// reward gaps and the KL to the reference.
//
//   METARM_RETURN_IF_ERROR(EvaluateSft(in, models.reference, output));
//   METARM_RETURN_IF_ERROR(EvaluateRound(in, round, models,
//                                        learner.reward_data.eval, output));
#ifndef METARM_RLHF_EVALUATION_H_
#define METARM_RLHF_EVALUATION_H_

#include <vector>

#include "absl/status/status.h"
#include "rlhf/run_parts.h"

namespace metarm {

// Round 0: the SFT policy's gold reward on the held-out prompts (one line of
// rounds.jsonl and of eval_samples.jsonl).
absl::Status EvaluateSft(const RunInputs& in, LanguageModel& reference,
                         RunOutput& output);

// Round `round` (≥ 1): the current policy against the reference, scored by
// the gold reward and by the reward model; `held_out` are the original
// held-out pairs. Appends to rounds.jsonl and eval_samples.jsonl and prints
// the round's line.
absl::Status EvaluateRound(const RunInputs& in, int round, RlhfModels& models,
                           const std::vector<PreferencePair>& held_out,
                           RunOutput& output);

}  // namespace metarm

#endif  // METARM_RLHF_EVALUATION_H_
