// The sharded DataParallelOptimizer, ZeRO stage 1 (see
// data_parallel_optimizer.h): learner r of N keeps the AdamW moments of
// stretch r of the flat parameter buffer (optim/flat_layout.h) and nothing
// else between steps.
//
// A step: the flat gradient (a temporary buffer of the model's size) is
// reduce-scattered, so learner r receives the reduced stretch r; AdamW
// updates a copy of stretch r of the parameters; the stretches are
// all-gathered into the same temporary buffer (the gradient is no longer
// needed there) and copied into the parameters. Between steps nothing but
// the moments is kept.
#ifndef METARM_OPTIM_SHARDED_ADAMW_H_
#define METARM_OPTIM_SHARDED_ADAMW_H_

#include "optim/data_parallel_optimizer.h"
#include "optim/flat_layout.h"

namespace metarm {

class ShardedAdamW final : public DataParallelOptimizer {
 public:
  // `parameters`: one dtype and one device; options.amsgrad() false
  // (MakeDataParallelAdamW checks both).
  ShardedAdamW(std::vector<torch::Tensor> parameters,
               const torch::optim::AdamWOptions& options, Communicator& group);

  void ZeroGrad() override;
  absl::Status ReduceGradients(GradientReduction how) override;
  absl::StatusOr<bool> ReducedGradientsFinite() override;
  absl::StatusOr<double> ClipGradientNorm(double max_norm) override;
  void SetLearningRate(double learning_rate) override {
    SetAdamWLearningRate(adam_, learning_rate);
  }
  absl::Status Step() override;
  int64_t StateBytes() const override { return AdamWStateBytes(adam_); }
  // Rank 0 receives the other learners' moments and writes the file.
  absl::Status Save(const std::string& path) override;
  absl::Status Load(const std::string& path,
                    const torch::Device& device) override;

  const FlatLayout& layout() const { return layout_; }

 private:
  int64_t begin() const { return layout_.shard_begin(group_.rank()); }
  torch::TensorOptions flat_options() const;

  std::vector<torch::Tensor> parameters_;
  torch::optim::AdamWOptions options_;
  Communicator& group_;
  FlatLayout layout_;
  // The AdamW's one parameter: a copy of this learner's stretch of the flat
  // parameters during Step, empty (no storage) between steps. Its state is
  // the shard's moments.
  torch::Tensor shard_;
  torch::Tensor shard_gradient_;  // from ReduceGradients to Step
  // The flat gradient's buffer, from ReduceGradients to Step, where it
  // receives the all-gathered parameters.
  torch::Tensor workspace_;
  torch::optim::AdamW adam_;
};

}  // namespace metarm

#endif  // METARM_OPTIM_SHARDED_ADAMW_H_
