#include "comm/status_consensus.h"

#include <torch/torch.h>

#include <string>

#include "util/status_macros.h"

namespace metarm {

absl::Status AgreeOnStatus(Communicator& group, const absl::Status& local) {
  torch::Tensor failed = torch::zeros({group.size()}, torch::kInt32);
  if (!local.ok()) failed[group.rank()] = 1;
  METARM_RETURN_IF_ERROR(group.AllReduce(failed, ReduceOp::kSum));
  torch::Tensor failing = failed.nonzero();
  if (failing.numel() == 0) return absl::OkStatus();
  const int first = static_cast<int>(failing[0][0].item<int64_t>());
  // The failing rank's code in the first byte, its message after it.
  std::string verdict;
  if (group.rank() == first) {
    verdict.push_back(static_cast<char>(local.code()));
    verdict.append(local.message().data(), local.message().size());
  }
  METARM_RETURN_IF_ERROR(group.BroadcastBytes(verdict, first));
  return absl::Status(static_cast<absl::StatusCode>(verdict[0]),
                      verdict.substr(1));
}

}  // namespace metarm
