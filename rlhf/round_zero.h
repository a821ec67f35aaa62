// Round 0 of an RLHF run: supervised fine-tuning of the policy, then the
// original preference pairs D sampled from the SFT policy.
//
//   auto optimizer = MakeSftOptimizer(in, learners, models.policy);
//   METARM_RETURN_IF_ERROR(RunSft(in, learners, models.policy, *optimizer,
//                                 /*first_step=*/0, output, after_step));
//   learner.reward_data = MakePreferenceData(in, models.policy);
#ifndef METARM_RLHF_ROUND_ZERO_H_
#define METARM_RLHF_ROUND_ZERO_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "comm/communicator.h"
#include "optim/data_parallel_optimizer.h"
#include "rlhf/run_parts.h"

namespace metarm {

// Learners: SFT's AdamW over the policy (sharded as the job says); null with
// sft.steps 0.
std::unique_ptr<DataParallelOptimizer> MakeSftOptimizer(const RunInputs& in,
                                                        Communicator& learners,
                                                        LanguageModel& policy);

// Called after each SFT step but the last with the steps done so far: the
// learners' safe point inside SFT. A non-OK status ends SFT with it.
using SftStepHook = std::function<absl::Status(int steps_done)>;

// Learners: steps `first_step` .. sft.steps - 1 of next-token cross-entropy
// on fresh demonstrations of the task (step s's batch comes from its own
// seeded stream, so a resumed SFT draws what an uninterrupted one would),
// each batch sharded over the learners. Learner 0 prints the last loss.
// `optimizer` is MakeSftOptimizer's (null with sft.steps 0).
absl::Status RunSft(const RunInputs& in, Communicator& learners,
                    LanguageModel& policy, DataParallelOptimizer* optimizer,
                    int first_step, RunOutput& output,
                    const SftStepHook& after_step);

// Learners: the original pairs D and the held-out pairs, pairs of `policy`'s
// samples labelled by the gold reward (task.label_temperature). Every learner
// draws the same ones. The meta set stays empty.
absl::StatusOr<RewardData> MakePreferenceData(const RunInputs& in,
                                              LanguageModel& policy);

}  // namespace metarm

#endif  // METARM_RLHF_ROUND_ZERO_H_
