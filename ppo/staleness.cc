#include "ppo/staleness.h"

#include <algorithm>
#include <utility>

namespace metarm {

FreshExperience DropStale(std::vector<Experience> parts,
                          int64_t learner_version, int64_t max_staleness) {
  FreshExperience fresh;
  for (Experience& part : parts) {
    const int64_t age = learner_version - part.policy_version;
    if (age < 0 || age > max_staleness) {
      ++fresh.dropped;
      continue;
    }
    fresh.max_age = std::max(fresh.max_age, age);
    fresh.kept.push_back(std::move(part));
  }
  return fresh;
}

}  // namespace metarm
