// Reading and writing an AdamW's state (written through util/archive_file.h),
// with errors that name the file; and access to its per-parameter state.
#ifndef METARM_OPTIM_ADAMW_FILE_H_
#define METARM_OPTIM_ADAMW_FILE_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/status.h"

namespace metarm {

// Written atomically (util/archive_file.h): ResourceExhausted naming the file
// when the disk is full, the old file intact.
absl::Status SaveAdamW(torch::optim::AdamW& optimizer, const std::string& path);

// The state goes to `device` (a file written on one device type loads on
// another). DataLoss when the file is not an optimizer state of these
// parameters.
absl::Status LoadAdamW(torch::optim::AdamW& optimizer, const std::string& path,
                       const torch::Device& device);

// The state AdamW keeps for `parameter`, or null before its first step.
torch::optim::AdamWParamState* FindAdamWState(torch::optim::AdamW& optimizer,
                                              const torch::Tensor& parameter);

// Sets `parameter`'s state (replacing any).
void SetAdamWState(torch::optim::AdamW& optimizer,
                   const torch::Tensor& parameter, int64_t step,
                   torch::Tensor exp_avg, torch::Tensor exp_avg_sq);

}  // namespace metarm

#endif  // METARM_OPTIM_ADAMW_FILE_H_
