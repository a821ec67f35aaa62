#include "optim/data_parallel_optimizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "optim/replicated_adamw.h"
#include "optim/sharded_adamw.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

// Sharding lays the parameters end to end in one buffer: they must share a
// dtype and a device.
absl::Status CheckShardable(const std::vector<torch::Tensor>& parameters,
                            const torch::optim::AdamWOptions& options) {
  if (parameters.empty()) {
    return absl::InvalidArgumentError("sharded AdamW: no parameters");
  }
  if (options.amsgrad()) {
    return absl::InvalidArgumentError(
        "sharded AdamW: amsgrad is not supported");
  }
  const torch::Tensor& first = parameters.front();
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (parameters[i].scalar_type() != first.scalar_type() ||
        parameters[i].device() != first.device()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sharded AdamW: parameter ", i, " is ",
          c10::toString(parameters[i].scalar_type()), " on ",
          parameters[i].device().str(), ", parameter 0 ",
          c10::toString(first.scalar_type()), " on ", first.device().str(),
          "; the parameters must share a dtype and a device"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataParallelOptimizer>> MakeDataParallelAdamW(
    std::vector<torch::Tensor> parameters,
    const torch::optim::AdamWOptions& options, Communicator& group,
    bool shard_state) {
  if (!shard_state) {
    return std::unique_ptr<DataParallelOptimizer>(
        new ReplicatedAdamW(std::move(parameters), options, group));
  }
  METARM_RETURN_IF_ERROR(CheckShardable(parameters, options));
  return std::unique_ptr<DataParallelOptimizer>(
      new ShardedAdamW(std::move(parameters), options, group));
}

std::unique_ptr<DataParallelOptimizer> MakeModelAdamW(
    std::vector<torch::Tensor> parameters,
    const torch::optim::AdamWOptions& options, Communicator& group,
    bool shard_state) {
  return MakeDataParallelAdamW(std::move(parameters), options, group,
                               shard_state)
      .value();
}

int64_t AdamWStateBytes(const torch::optim::AdamW& optimizer) {
  int64_t bytes = 0;
  for (const auto& [key, base] : optimizer.state()) {
    const auto& state =
        static_cast<const torch::optim::AdamWParamState&>(*base);
    for (const torch::Tensor& t :
         {state.exp_avg(), state.exp_avg_sq(), state.max_exp_avg_sq()}) {
      if (t.defined()) bytes += t.numel() * t.element_size();
    }
  }
  return bytes;
}

absl::StatusOr<StepReport> ScheduledStep(DataParallelOptimizer& optimizer,
                                         const LrSchedule& schedule,
                                         int64_t step, double max_grad_norm) {
  StepReport report;
  report.learning_rate = schedule.At(step);
  optimizer.SetLearningRate(report.learning_rate);
  METARM_ASSIGN_OR_RETURN(report.grad_norm,
                          optimizer.ClipGradientNorm(max_grad_norm));
  METARM_RETURN_IF_ERROR(optimizer.Step());
  return report;
}

void SetAdamWLearningRate(torch::optim::AdamW& adam, double learning_rate) {
  for (torch::optim::OptimizerParamGroup& group : adam.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate);
  }
}

double ClipCoefficient(double norm, double max_norm) {
  if (max_norm <= 0) return 1;
  return std::min(1.0, max_norm / (norm + 1e-6));
}

}  // namespace metarm
