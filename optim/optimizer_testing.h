// Helpers shared by the optimizer tests (optim/*_test.cc and
// tests/sharded_adamw_mpi_test.cc): a small seeded language model, a loss
// whose gradient depends on a seed, and training and comparing models.
#ifndef METARM_OPTIM_OPTIMIZER_TESTING_H_
#define METARM_OPTIM_OPTIMIZER_TESTING_H_

#include <torch/torch.h>

#include <cstdint>

#include "model/transformer.h"
#include "optim/data_parallel_optimizer.h"

namespace metarm {

// 2 layers, d_model 32, vocabulary 50, 16 positions; the same weights for
// the same seed.
LanguageModel SmallModel(uint64_t seed);

// A model with `source`'s current weights.
LanguageModel CopyOf(LanguageModel& source);

// AdamW with weight decay, so that the decoupled decay is checked too.
torch::optim::AdamWOptions TestAdamWOptions();

// Backpropagates a loss on random tokens drawn from `seed` (gradients
// accumulate into .grad()).
void SeededBackward(LanguageModel& model, uint64_t seed);

// Steps first .. first + steps - 1 of `optimizer`: zero, SeededBackward with
// 1000 * step + rank (gradients that differ by rank and step), reduce as
// `how` says, step. Fails the test on an error.
void TrainSteps(LanguageModel& model, DataParallelOptimizer& optimizer,
                int rank, int first, int steps, GradientReduction how);

// The largest |a - b| over the two models' parameters.
double MaxParameterDifference(LanguageModel& a, LanguageModel& b);

}  // namespace metarm

#endif  // METARM_OPTIM_OPTIMIZER_TESTING_H_
