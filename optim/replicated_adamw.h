// The replicated DataParallelOptimizer: gradients all-reduced, the whole
// AdamW state and step on every learner (see data_parallel_optimizer.h).
#ifndef METARM_OPTIM_REPLICATED_ADAMW_H_
#define METARM_OPTIM_REPLICATED_ADAMW_H_

#include "optim/data_parallel_optimizer.h"

namespace metarm {

class ReplicatedAdamW final : public DataParallelOptimizer {
 public:
  ReplicatedAdamW(std::vector<torch::Tensor> parameters,
                  const torch::optim::AdamWOptions& options,
                  Communicator& group);

  void ZeroGrad() override { adam_.zero_grad(); }
  absl::Status ReduceGradients(GradientReduction how) override;
  // Local: the reduced gradients are the same on every learner.
  absl::StatusOr<bool> ReducedGradientsFinite() override;
  absl::StatusOr<double> ClipGradientNorm(double max_norm) override;
  void SetLearningRate(double learning_rate) override {
    SetAdamWLearningRate(adam_, learning_rate);
  }
  absl::Status Step() override;
  int64_t StateBytes() const override { return AdamWStateBytes(adam_); }
  // Local: every learner holds the whole state; rank 0 writes it.
  absl::Status Save(const std::string& path) override;
  absl::Status Load(const std::string& path,
                    const torch::Device& device) override;

 private:
  std::vector<torch::Tensor> parameters_;
  Communicator& group_;
  torch::optim::AdamW adam_;
};

}  // namespace metarm

#endif  // METARM_OPTIM_REPLICATED_ADAMW_H_
