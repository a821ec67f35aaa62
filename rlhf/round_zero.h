// Round 0 of an RLHF run: supervised fine-tuning of the policy, then the
// original preference pairs D sampled from the SFT policy.
//
//   METARM_RETURN_IF_ERROR(RunSft(in, *ranks.groups.learners, models.policy,
//                                 output));
//   learner.reward_data = MakePreferenceData(in, models.policy);
#ifndef METARM_RLHF_ROUND_ZERO_H_
#define METARM_RLHF_ROUND_ZERO_H_

#include "absl/status/status.h"
#include "comm/communicator.h"
#include "rlhf/run_parts.h"

namespace metarm {

// Learners: sft.steps steps of next-token cross-entropy on fresh
// demonstrations of the task, each batch sharded over the learners. Learner 0
// prints the last loss.
absl::Status RunSft(const RunInputs& in, Communicator& learners,
                    LanguageModel& policy, RunOutput& output);

// Learners: the original pairs D and the held-out pairs, pairs of `policy`'s
// samples labelled by the gold reward (task.label_temperature). Every learner
// draws the same ones. The meta set stays empty.
absl::StatusOr<RewardData> MakePreferenceData(const RunInputs& in,
                                              LanguageModel& policy);

}  // namespace metarm

#endif  // METARM_RLHF_ROUND_ZERO_H_
