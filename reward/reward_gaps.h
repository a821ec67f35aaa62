// The reward-gap diagnostic of the MetaRM papers: for each prompt's k sampled
// responses, the gaps |r_i - r_j| over the pairs i < j. A reward model that
// no longer tells the policy's responses apart shows gaps near zero.
//
//   RewardGapStats gaps = ComputeRewardGaps(scores);  // scores [m, k]
//   std::cout << RewardGapStatsToJson(gaps).dump();
#ifndef METARM_REWARD_REWARD_GAPS_H_
#define METARM_REWARD_REWARD_GAPS_H_

#include <torch/torch.h>

#include <vector>

#include "nlohmann/json.hpp"

namespace metarm {

struct GapSummary {
  double mean = 0;
  double stddev = 0;
  // Quantiles at kGapQuantiles.
  std::vector<double> quantiles;
};

inline constexpr double kGapQuantiles[] = {0.1, 0.25, 0.5, 0.75, 0.9};

struct RewardGapStats {
  int64_t pairs = 0;
  // The reward model's reward scale on this set: max - min of all k*m scores.
  double reward_range = 0;
  GapSummary raw;
  // Gaps divided by reward_range, so in [0, 1] (the papers plot these).
  GapSummary normalized;
  // Counts of normalised gaps in `bins` equal bins over [0, 1].
  std::vector<int64_t> histogram;
};

// scores [m, k], k >= 2.
RewardGapStats ComputeRewardGaps(const torch::Tensor& scores, int bins = 10);

nlohmann::json RewardGapStatsToJson(const RewardGapStats& stats);

}  // namespace metarm

#endif  // METARM_REWARD_REWARD_GAPS_H_
