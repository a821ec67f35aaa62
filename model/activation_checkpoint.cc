#include "model/activation_checkpoint.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

#include <memory>
#include <string>
#include <utility>

#include "model/mixed_precision.h"

namespace metarm {
namespace {

using torch::autograd::variable_list;

// What the forward pass ran under, to be replayed: the random generator of
// a device (dropout) and autocast's settings (bf16 models).
class ForwardSnapshot {
 public:
  explicit ForwardSnapshot(const torch::Device& device)
      : generator_(at::globalContext().defaultGenerator(device)),
        autocast_(AutocastState::Now()) {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    state_ = generator_.get_state();
  }
  // Runs `body` as the forward pass ran, then puts the generator back where
  // it was before.
  template <typename Body>
  void Replay(Body&& body) {
    torch::Tensor now;
    {
      std::lock_guard<std::mutex> lock(generator_.mutex());
      now = generator_.get_state();
      generator_.set_state(state_);
    }
    {
      ScopedAutocast autocast(autocast_);
      body();
    }
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(now);
  }

 private:
  at::Generator generator_;
  torch::Tensor state_;
  AutocastState autocast_;
};

// The backward node of y = f(x): its next edges are those of x and the
// parameters, in that order; it recomputes f(x) with gradients and
// differentiates it.
class CheckpointBackward : public torch::autograd::Node {
 public:
  CheckpointBackward(CheckpointedFunction f, torch::Tensor input,
                     std::vector<torch::Tensor> parameters)
      : f_(std::move(f)),
        input_(std::move(input)),
        parameters_(std::move(parameters)),
        forward_(input_.device()) {}

  variable_list apply(variable_list&& grads) override {
    // Under create_graph the engine runs this with gradient mode on; then
    // the recomputation's graph is kept, and the gradients are themselves
    // differentiable (through x's own history too, as x is not detached).
    const bool create_graph = torch::GradMode::is_enabled();
    torch::AutoGradMode enable(true);
    std::vector<torch::Tensor> all = {input_};
    all.insert(all.end(), parameters_.begin(), parameters_.end());
    // Only the inputs that take a gradient are differentiated; the others'
    // edges are empty and get an undefined gradient.
    std::vector<torch::Tensor> inputs;
    std::vector<size_t> positions;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].defined() && all[i].requires_grad()) {
        inputs.push_back(all[i]);
        positions.push_back(i);
      }
    }
    torch::Tensor x = input_.requires_grad() ? input_ : input_.detach();
    torch::Tensor y;
    forward_.Replay([&] { y = f_(x); });
    variable_list out(all.size());
    if (inputs.empty()) return out;
    variable_list computed = torch::autograd::grad(
        {y}, inputs, {grads[0]}, /*retain_graph=*/create_graph, create_graph,
        /*allow_unused=*/true);
    for (size_t j = 0; j < positions.size(); ++j) {
      out[positions[j]] = computed[j];
    }
    return out;
  }

  std::string name() const override { return "metarm::CheckpointBackward"; }

  void release_variables() override {
    input_.reset();
    parameters_.clear();
  }

 private:
  CheckpointedFunction f_;
  torch::Tensor input_;
  std::vector<torch::Tensor> parameters_;
  ForwardSnapshot forward_;
};

}  // namespace

torch::Tensor Checkpointed(CheckpointedFunction f, const torch::Tensor& x,
                           const std::vector<torch::Tensor>& parameters) {
  bool needs_grad = torch::GradMode::is_enabled() && x.requires_grad();
  for (const torch::Tensor& p : parameters) {
    needs_grad =
        needs_grad || (torch::GradMode::is_enabled() && p.requires_grad());
  }
  if (!needs_grad) return f(x);
  auto node = std::shared_ptr<CheckpointBackward>(
      new CheckpointBackward(f, x, parameters), torch::autograd::deleteNode);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = f(x);
  }
  node->set_next_edges(
      torch::autograd::collect_next_edges(x, at::TensorList(parameters)));
  torch::autograd::set_history(y, node);
  return y;
}

}  // namespace metarm
