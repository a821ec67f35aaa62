#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace metarm {

double LrSchedule::At(int64_t step) const {
  if (step < warmup_steps) {
    return base * static_cast<double>(step + 1) / warmup_steps;
  }
  if (decay == LrDecay::kConstant || total_steps <= warmup_steps) return base;
  const double progress =
      std::clamp(static_cast<double>(step - warmup_steps) /
                     static_cast<double>(total_steps - warmup_steps),
                 0.0, 1.0);
  const double remaining = decay == LrDecay::kLinear
                               ? 1 - progress
                               : (1 + std::cos(M_PI * progress)) / 2;
  return base * (min_ratio + (1 - min_ratio) * remaining);
}

}  // namespace metarm
