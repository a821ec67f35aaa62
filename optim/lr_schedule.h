// The learning rate of each optimizer step: a linear warm-up, then constant,
// linear or cosine decay to a floor.
//
//   LrSchedule schedule{.base = 1e-3, .warmup_steps = 10, .total_steps = 600,
//                       .decay = LrDecay::kCosine, .min_ratio = 0.1};
//   optimizer.SetLearningRate(schedule.At(step));  // step 0, 1, ...
#ifndef METARM_OPTIM_LR_SCHEDULE_H_
#define METARM_OPTIM_LR_SCHEDULE_H_

#include <cstdint>

namespace metarm {

enum class LrDecay { kConstant, kLinear, kCosine };

struct LrSchedule {
  double base = 0;           // the learning rate after the warm-up
  int64_t warmup_steps = 0;  // steps 0 .. warmup_steps-1 ramp up
  int64_t total_steps = 0;   // the decay ends here (and stays at the floor)
  LrDecay decay = LrDecay::kConstant;
  double min_ratio = 0;  // the floor, as a fraction of base

  // The rate of step `step` (0-based). Warm-up: base × (step + 1) /
  // warmup_steps, so the first step is not wasted at 0. Decay over the steps
  // from warmup_steps to total_steps, progress p in [0, 1]: linear
  // base × (r + (1 − r)(1 − p)), cosine base × (r + (1 − r)(1 + cos πp) / 2),
  // r = min_ratio.
  double At(int64_t step) const;
};

}  // namespace metarm

#endif  // METARM_OPTIM_LR_SCHEDULE_H_
