// Averaging gradients over a data-parallel group in one flat bucket.
//
//   loss.backward();
//   METARM_RETURN_IF_ERROR(AverageGradients(model->parameters(), learners));
//   optimizer.step();
//
// All gradients are copied into one contiguous buffer, all-reduced once and
// copied back: one collective per step instead of one per tensor. Every rank
// passes the same parameters in the same order, so the buffer's layout is the
// same everywhere.
#ifndef METARM_COMM_GRADIENT_SYNC_H_
#define METARM_COMM_GRADIENT_SYNC_H_

#include <torch/torch.h>

#include <vector>

#include "absl/status/status.h"
#include "comm/communicator.h"

namespace metarm {

// Reduces `tensors` in place over `group` with one all-reduce of a flat
// buffer. A group of one rank returns at once.
absl::Status AllReduceTensors(std::vector<torch::Tensor>& tensors,
                              Communicator& group, ReduceOp op);

// Replaces every parameter's gradient by its average over `group` (a
// parameter without a gradient counts as zeros and receives one). A group of
// one rank returns at once.
absl::Status AverageGradients(const std::vector<torch::Tensor>& parameters,
                              Communicator& group);

// Replaces every parameter's gradient by its sum over `group`: for losses
// each rank has already scaled by its share of the global batch.
absl::Status SumGradients(const std::vector<torch::Tensor>& parameters,
                          Communicator& group);

// The parameters' values in one flat float64 tensor, for checksums.
torch::Tensor FlattenParameters(const std::vector<torch::Tensor>& parameters);

}  // namespace metarm

#endif  // METARM_COMM_GRADIENT_SYNC_H_
