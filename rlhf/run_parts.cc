#include "rlhf/run_parts.h"

namespace metarm {

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace metarm
