// Averaging gradients over a data-parallel group after backward.
//
//   std::vector<torch::Tensor> parameters = model->parameters();
//   loss.backward();
//   METARM_RETURN_IF_ERROR(AverageGradients(parameters, learners));
//   optimizer.step();
//
// Large gradients are all-reduced in place, the small ones packed into flat
// buckets (comm/bucket_plan.h). Every rank passes the same parameters in the
// same order, so the collectives match everywhere. comm/overlapped_reducer.h
// overlaps the all-reduce with backward instead.
#ifndef METARM_COMM_GRADIENT_SYNC_H_
#define METARM_COMM_GRADIENT_SYNC_H_

#include <torch/torch.h>

#include <vector>

#include "absl/status/status.h"
#include "comm/bucket_plan.h"
#include "comm/communicator.h"

namespace metarm {

// Reduces `tensors` in place over `group`: each contiguous tensor of
// kInPlaceBytes (comm/in_place.h) or more with its own all-reduce, in place;
// the others packed into flat buckets of up to kDefaultBucketBytes, one
// all-reduce each (the packing copies of a whole 52 MB model cost more than
// the messages they save: bench/comm_bench.cc, docs/PERFORMANCE.md). A group
// of one rank returns at once.
absl::Status AllReduceTensors(std::vector<torch::Tensor>& tensors,
                              Communicator& group, ReduceOp op);

// Replaces every parameter's gradient by its average over `group` (a
// parameter without a gradient counts as zeros and receives one). A group of
// one rank returns at once.
absl::Status AverageGradients(std::vector<torch::Tensor>& parameters,
                              Communicator& group);

// Replaces every parameter's gradient by its sum over `group`: for losses
// each rank has already scaled by its share of the global batch.
absl::Status SumGradients(std::vector<torch::Tensor>& parameters,
                          Communicator& group);

// The parameters' values in one flat float64 tensor, for checksums.
torch::Tensor FlattenParameters(const std::vector<torch::Tensor>& parameters);

}  // namespace metarm

#endif  // METARM_COMM_GRADIENT_SYNC_H_
