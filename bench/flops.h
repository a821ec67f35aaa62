// Model FLOPs of the learner's steps, the numerator of MFU
// (docs/PERFORMANCE.md). A multiply-add is 2 FLOPs; attention is counted
// over the full T x T score matrix (no causal halving), as in the usual
// 6N + 12·L·T·d per-token training estimate; backward is 2x forward.
#ifndef METARM_BENCH_FLOPS_H_
#define METARM_BENCH_FLOPS_H_

#include <cstdint>

#include "model/transformer_config.h"

namespace metarm {

struct ModelShape {
  int64_t d_model = 0, layers = 0, d_ff = 0, vocab = 0;
  int64_t head_dim = 0, heads = 0, kv_heads = 0;
  bool swiglu = false;
  bool lm_head = false;  // vocabulary head (LM) or scalar head
};

ModelShape ShapeOf(const TransformerConfig& config, bool lm_head);

// One forward pass over `sequences` sequences of `tokens` tokens.
double ForwardFlops(const ModelShape& shape, int64_t sequences, int64_t tokens);

// A VANILLA reward-model step: forward and backward over both sides of the
// pairs (`sequences` = 2 x pairs).
double RewardStepFlops(const ModelShape& shape, int64_t sequences,
                       int64_t tokens);

// A first-order METARM step (reward/reward_trainer.cc): on the meta batch, J
// forward + backward at θ, J forward at θ' and after the step (5 forward
// passes' worth); on the pairs, the loss forward + backward at θ'.
double MetaRmStepFlops(const ModelShape& shape, int64_t pair_sequences,
                       int64_t meta_sequences, int64_t tokens);

// A PPO update of one epoch over `batch` sequences: the critic's old values
// (forward), then policy and critic forward + backward on every minibatch.
double PpoUpdateFlops(const ModelShape& policy, const ModelShape& critic,
                      int64_t batch, int64_t tokens);

}  // namespace metarm

#endif  // METARM_BENCH_FLOPS_H_
