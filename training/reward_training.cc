#include "training/reward_training.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "util/random_streams.h"
#include "util/status_macros.h"

namespace metarm {

std::vector<int64_t> Permutation(int64_t n, uint64_t seed, uint64_t stream) {
  at::Generator generator =
      at::detail::createCPUGenerator(SubstreamSeed(seed, stream));
  torch::Tensor order = torch::randperm(n, generator, torch::kInt64);
  return {order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + n};
}

IndexSplit SplitOffHeldOut(int64_t n, double fraction, uint64_t seed) {
  const std::vector<int64_t> order = Permutation(n, seed, 0);
  const int64_t held_out = std::min<int64_t>(
      n, std::max<int64_t>(1, static_cast<int64_t>(std::floor(
                                  static_cast<double>(n) * fraction))));
  return {{order.begin() + held_out, order.end()},
          {order.begin(), order.begin() + held_out}};
}

std::vector<int64_t> MyShare(const std::vector<int64_t>& all,
                             Communicator& learners) {
  auto [begin, count] = ShardRange(static_cast<int64_t>(all.size()),
                                   learners.rank(), learners.size());
  return {all.begin() + begin, all.begin() + begin + count};
}

int64_t RewardStepsPerEpoch(const RewardTraining& spec,
                            const RewardData& data) {
  return static_cast<int64_t>(data.train.size()) / spec.batch_size();
}

absl::StatusOr<EpochTotals> TrainRewardEpoch(
    const RewardTraining& spec, uint64_t seed, const RewardData& data,
    const Tokenizer& tokenizer, const SequenceLimits& limits,
    RewardTrainer& trainer, Communicator& learners, int epoch,
    const RewardStepObserver& on_step, EpochTotals done) {
  const int64_t n = spec.batch_size();
  const int64_t m = spec.meta_batch_size();
  std::vector<int64_t> order =
      Permutation(static_cast<int64_t>(data.train.size()), seed, 1 + 2 * epoch);
  std::vector<int64_t> meta_order =
      data.meta.empty() ? std::vector<int64_t>()
                        : Permutation(static_cast<int64_t>(data.meta.size()),
                                      seed, 2 + 2 * epoch);
  EpochTotals totals = done;
  const int64_t steps = RewardStepsPerEpoch(spec, data);
  for (int64_t step = done.steps; step < steps; ++step) {
    std::vector<int64_t> global(order.begin() + step * n,
                                order.begin() + (step + 1) * n);
    PreferenceBatch pairs = MakePreferenceBatch(
        data.train, MyShare(global, learners), limits, tokenizer);
    MetaBatch meta;
    if (!meta_order.empty()) {
      // The meta set is cycled: it may hold fewer prompts than the epoch has
      // steps times m.
      std::vector<int64_t> global_meta;
      for (int64_t i = 0; i < m; ++i) {
        global_meta.push_back(meta_order[(step * m + i) % meta_order.size()]);
      }
      meta = MakeMetaBatch(data.meta, MyShare(global_meta, learners), limits,
                           tokenizer);
    }
    METARM_ASSIGN_OR_RETURN(
        RewardStepStats stats,
        trainer.Step(pairs, meta_order.empty() ? nullptr : &meta));
    totals.sums += stats;
    ++totals.steps;
    if (on_step) METARM_RETURN_IF_ERROR(on_step(step, stats, totals));
  }
  return totals;
}

RewardStepObserver LogRewardSteps(RunLog& log, const nlohmann::json& fields) {
  return [&log, fields](int64_t step, const RewardStepStats& stats,
                        const EpochTotals&) {
    nlohmann::json line = fields;
    line["step"] = log.line_counts().at(kRewardStepLog) + 1;
    line["step_in_epoch"] = step + 1;
    for (const RewardStatField& f : kRewardStatFields) {
      line[f.step_key] = stats.*f.member;
    }
    return log.Append(kRewardStepLog, line);
  };
}

void AddRewardEpochMeans(const RewardStepStats& means, nlohmann::json& line) {
  for (const RewardStatField& f : kRewardStatFields) {
    line[f.epoch_key] = means.*f.member;
  }
}

}  // namespace metarm
