// Moving weights between the RLHF job's models and ranks.
//
//   METARM_RETURN_IF_ERROR(SyncPolicy(ranks, models, counters));
//   CopyParameters(*models.policy, *models.reference);
#ifndef METARM_RLHF_WEIGHT_TRANSFER_H_
#define METARM_RLHF_WEIGHT_TRANSFER_H_

#include <torch/torch.h>

#include <cstdint>

#include "absl/status/status.h"
#include "rlhf/run_parts.h"

namespace metarm {

// `to`'s parameters become copies of `from`'s (same architecture).
void CopyParameters(torch::nn::Module& from, torch::nn::Module& to);

// Collective over the weight-sync group: learner 0 sends `module`'s weights,
// tagged with `version`, to the rollout workers that are not learners. The
// version that arrived (the sender's) is returned; a rank outside the group,
// or a group of one, returns `version`.
absl::StatusOr<int64_t> SendWeights(const RankGroups& ranks,
                                    torch::nn::Module& module, int64_t version);

// The policy's weights to the rollout workers (SendWeights), which record
// the version in counters.rollout_version; a rank that is both learner and
// rollout worker with a separate rollout copy takes them from its own
// policy.
absl::Status SyncPolicy(const RankGroups& ranks, RlhfModels& models,
                        PolicyCounters& counters);

}  // namespace metarm

#endif  // METARM_RLHF_WEIGHT_TRANSFER_H_
