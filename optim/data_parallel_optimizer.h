// AdamW for a model trained data-parallel over a group of learners, with the
// optimizer state either replicated on every learner or sharded across them
// (ZeRO stage 1: Rajbhandari et al., 2020, "ZeRO: Memory Optimizations
// Toward Training Trillion Parameter Models", section 5.1).
//
//   absl::StatusOr<std::unique_ptr<DataParallelOptimizer>> optimizer =
//       MakeDataParallelAdamW(model->parameters(), options, learners,
//                             /*shard_state=*/true);
//   (*optimizer)->ZeroGrad();
//   loss.backward();                       // this learner's gradient
//   METARM_RETURN_IF_ERROR(
//       (*optimizer)->ReduceGradients(GradientReduction::kAverage));
//   METARM_RETURN_IF_ERROR((*optimizer)->Step());
//
// Replicated: the gradients are all-reduced and every learner runs the whole
// AdamW step. Sharded: the flat gradient is reduce-scattered, each learner
// keeps the AdamW moments of its 1/N of the parameters and updates that
// shard, and the updated shards are all-gathered into every learner's
// parameters. The moments take 1/N of the memory; the communication volume is
// the same (a reduce-scatter and an all-gather move what one all-reduce
// does). Both give the same parameters up to the order of floating-point
// sums (tests/sharded_adamw_mpi_test.cc).
//
// Every method is collective over the group unless it says otherwise: every
// learner calls the same methods in the same order.
#ifndef METARM_OPTIM_DATA_PARALLEL_OPTIMIZER_H_
#define METARM_OPTIM_DATA_PARALLEL_OPTIMIZER_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "optim/lr_schedule.h"

namespace metarm {

// How the gradients in the parameters' .grad() relate across the learners
// when ReduceGradients is called.
enum class GradientReduction {
  kAverage,  // each learner's own: the step uses their average
  kSum,      // each learner's own: the step uses their sum
  kReduced,  // already reduced by the caller: the same on every learner
};

class DataParallelOptimizer {
 public:
  virtual ~DataParallelOptimizer() = default;

  // Zeroes the gradients that exist (as torch::optim::Optimizer::zero_grad).
  // Local.
  virtual void ZeroGrad() = 0;

  // Reduces the gradients over the group as `how` says, into what Step
  // uses. A parameter without a gradient counts as zeros.
  virtual absl::Status ReduceGradients(GradientReduction how) = 0;

  // Whether every element of the reduced gradient is finite, the same answer
  // on every learner.
  virtual absl::StatusOr<bool> ReducedGradientsFinite() = 0;

  // The L2 norm of the whole reduced gradient, the same on every learner.
  // When `max_norm` > 0 and the norm exceeds it, the gradient is first
  // scaled by max_norm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_
  // does. Between ReduceGradients and Step.
  virtual absl::StatusOr<double> ClipGradientNorm(double max_norm) = 0;

  // The learning rate of the following steps. Local.
  virtual void SetLearningRate(double learning_rate) = 0;

  // One AdamW step with the reduced gradient; afterwards every learner holds
  // the same parameters.
  virtual absl::Status Step() = 0;

  // This learner's optimizer state in bytes (the AdamW moments). Local.
  virtual int64_t StateBytes() const = 0;

  // Writes the whole state to `path` (on group rank 0; the others' `path`
  // is ignored) in torch::optim::AdamW's format over the parameters, so a
  // file saved sharded loads replicated and the other way round, with any
  // number of learners.
  virtual absl::Status Save(const std::string& path) = 0;

  // Reads the state that Save wrote (every learner reads `path`), onto
  // `device`. Errors name the file.
  virtual absl::Status Load(const std::string& path,
                            const torch::Device& device) = 0;
};

// `parameters`: one dtype and one device (checked when sharding). The group
// must outlive the optimizer.
absl::StatusOr<std::unique_ptr<DataParallelOptimizer>> MakeDataParallelAdamW(
    std::vector<torch::Tensor> parameters,
    const torch::optim::AdamWOptions& options, Communicator& group,
    bool shard_state);

// For the parameters of one model (model/transformer.h), which always share
// a dtype and a device: with options.amsgrad() off it cannot fail.
std::unique_ptr<DataParallelOptimizer> MakeModelAdamW(
    std::vector<torch::Tensor> parameters,
    const torch::optim::AdamWOptions& options, Communicator& group,
    bool shard_state);

// What one scheduled step did, for the step logs.
struct StepReport {
  double learning_rate = 0;
  double grad_norm = 0;  // before clipping
};

// One step of a schedule (optim/lr_schedule.h): the rate of step `step`,
// the gradient clipped to `max_grad_norm` (0: not clipped, the norm still
// measured), then Step. Collective, after ReduceGradients.
absl::StatusOr<StepReport> ScheduledStep(DataParallelOptimizer& optimizer,
                                         const LrSchedule& schedule,
                                         int64_t step, double max_grad_norm);

// The factor clipping applies to a gradient of L2 norm `norm`: 1 when
// `max_norm` <= 0 or the norm is within it, else max_norm / (norm + 1e-6)
// (torch.nn.utils.clip_grad_norm_'s).
double ClipCoefficient(double norm, double max_norm);

// Sets the learning rate of every parameter group of `adam`.
void SetAdamWLearningRate(torch::optim::AdamW& adam, double learning_rate);

// The bytes of an AdamW's moments (exp_avg, exp_avg_sq, max_exp_avg_sq).
int64_t AdamWStateBytes(const torch::optim::AdamW& optimizer);

}  // namespace metarm

#endif  // METARM_OPTIM_DATA_PARALLEL_OPTIMIZER_H_
