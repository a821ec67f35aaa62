#include "rlhf/weight_transfer.h"

#include "comm/weight_sync.h"
#include "util/status_macros.h"

namespace metarm {

void CopyParameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto source = from.parameters();
  auto target = to.parameters();
  for (size_t i = 0; i < target.size(); ++i) target[i].copy_(source[i]);
}

absl::StatusOr<int64_t> SendWeights(const RankGroups& ranks,
                                    torch::nn::Module& module,
                                    int64_t version) {
  if (ranks.weight_sync == nullptr || ranks.weight_sync->size() == 1) {
    return version;
  }
  std::vector<torch::Tensor> parameters = module.parameters();
  return BroadcastWeights(parameters, version, *ranks.weight_sync, 0);
}

absl::Status SyncPolicy(const RankGroups& ranks, RlhfModels& models,
                        PolicyCounters& counters) {
  METARM_ASSIGN_OR_RETURN(
      counters.rollout_version,
      SendWeights(ranks, *models.policy, counters.policy_version),
      "sending the policy (version ", counters.policy_version,
      ") to the rollout workers");
  if (ranks.rollout() && models.rollout_policy.ptr() != models.policy.ptr()) {
    CopyParameters(*models.policy, *models.rollout_policy);
  }
  return absl::OkStatus();
}

}  // namespace metarm
