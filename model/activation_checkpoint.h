// Activation checkpointing: y = f(x) whose intermediate activations are not
// kept for the backward pass. f runs without gradients in the forward pass
// (only x is kept) and again, with them, when the gradient reaches y; the
// gradients it gives x and `parameters` are those of the plain f(x).
//
//   x = Checkpointed([&](const torch::Tensor& in) { return block(in); }, x,
//                    block->parameters());
//
// Works with backward() and torch::autograd::grad alike (the parameters are
// inputs of the node, so a gradient taken with respect to them reaches them),
// and with double backward (create_graph: the recomputation then keeps its
// graph). The random generator of x's device and autocast's settings are
// replayed for the recomputation, so dropout draws the same masks and a
// bf16 model computes in bf16 again. f must read nothing else
// that requires a gradient, and must outlive the backward pass.
#ifndef METARM_MODEL_ACTIVATION_CHECKPOINT_H_
#define METARM_MODEL_ACTIVATION_CHECKPOINT_H_

#include <torch/torch.h>

#include <functional>
#include <vector>

namespace metarm {

using CheckpointedFunction = std::function<torch::Tensor(const torch::Tensor&)>;

torch::Tensor Checkpointed(CheckpointedFunction f, const torch::Tensor& x,
                           const std::vector<torch::Tensor>& parameters);

}  // namespace metarm

#endif  // METARM_MODEL_ACTIVATION_CHECKPOINT_H_
