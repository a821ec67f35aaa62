#include "reward/reward_gaps.h"

#include <algorithm>

namespace metarm {
namespace {

GapSummary Summarize(const torch::Tensor& gaps) {
  GapSummary summary;
  if (gaps.numel() == 0) return summary;
  summary.mean = gaps.mean().item<double>();
  summary.stddev = gaps.numel() > 1 ? gaps.std().item<double>() : 0.0;
  for (double q : kGapQuantiles) {
    summary.quantiles.push_back(torch::quantile(gaps, q).item<double>());
  }
  return summary;
}

nlohmann::json SummaryToJson(const GapSummary& summary) {
  nlohmann::json quantiles;
  for (size_t i = 0; i < summary.quantiles.size(); ++i) {
    quantiles["q" + std::to_string(static_cast<int>(kGapQuantiles[i] * 100))] =
        summary.quantiles[i];
  }
  return {{"mean", summary.mean},
          {"std", summary.stddev},
          {"quantiles", quantiles}};
}

}  // namespace

RewardGapStats ComputeRewardGaps(const torch::Tensor& scores, int bins) {
  torch::Tensor s = scores.detach().to(torch::kCPU, torch::kFloat64);
  const int64_t k = s.size(1);
  torch::Tensor upper = torch::ones({k, k}, torch::kBool).triu(1);
  torch::Tensor gaps =
      (s.unsqueeze(2) - s.unsqueeze(1)).abs().masked_select(upper.unsqueeze(0));
  RewardGapStats stats;
  stats.pairs = gaps.numel();
  stats.reward_range = s.numel() > 0 ? (s.max() - s.min()).item<double>() : 0.0;
  stats.raw = Summarize(gaps);
  torch::Tensor normalized =
      stats.reward_range > 0 ? gaps / stats.reward_range : gaps * 0.0;
  stats.normalized = Summarize(normalized);
  stats.histogram.assign(bins, 0);
  auto values = normalized.contiguous();
  const double* data = values.data_ptr<double>();
  for (int64_t i = 0; i < values.numel(); ++i) {
    const int bin = std::min(bins - 1, static_cast<int>(data[i] * bins));
    ++stats.histogram[bin];
  }
  return stats;
}

nlohmann::json RewardGapStatsToJson(const RewardGapStats& stats) {
  return {{"pairs", stats.pairs},
          {"reward_range", stats.reward_range},
          {"raw", SummaryToJson(stats.raw)},
          {"normalized", SummaryToJson(stats.normalized)},
          {"histogram", stats.histogram}};
}

}  // namespace metarm
