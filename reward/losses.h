// The reward-model objectives of MetaRM (the method, its formulas and
// measurements: docs/reward_model.md).
//
//   torch::Tensor L = BradleyTerryLoss(chosen_scores, rejected_scores);
//   torch::Tensor J = DifferenceObjective(meta_scores.view({m, k}));
#ifndef METARM_REWARD_LOSSES_H_
#define METARM_REWARD_LOSSES_H_

#include <torch/torch.h>

namespace metarm {

// Vanilla (Bradley-Terry) loss on n pairs:
//   L = -mean_pairs log σ(r(x, y_c) - r(x, y_r)).
// chosen, rejected: [n]. Minimised.
torch::Tensor BradleyTerryLoss(const torch::Tensor& chosen,
                               const torch::Tensor& rejected);

// MetaRM difference objective on m prompts with k responses each:
//   J_x = (2 / k²) Σ_{i<j} σ(|r(x, s_i) - r(x, s_j)|),  J = mean_x J_x.
// scores: [m, k]. Maximised: it grows as the RM spreads a prompt's responses
// apart, and its gradient is largest for pairs the RM nearly ties.
torch::Tensor DifferenceObjective(const torch::Tensor& scores);

// Fraction of pairs with chosen > rejected (ties count as wrong). [n] each.
double PairwiseAccuracy(const torch::Tensor& chosen,
                        const torch::Tensor& rejected);

}  // namespace metarm

#endif  // METARM_REWARD_LOSSES_H_
