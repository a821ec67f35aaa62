// Which rollout batches the PPO learners may use when rollouts run ahead of
// the learners (ppo.max_staleness > 0).
//
//   FreshExperience fresh = DropStale(parts, learner_version, max_staleness);
//   if (!fresh.kept.empty()) Update(ConcatenateExperience(fresh.kept));
//
// A batch made with policy version v is `learner_version - v` versions old.
// PPO corrects for the difference through its importance ratio
// π_θ / π_old, where π_old is the policy that sampled the batch; batches older
// than the limit are dropped and counted, since the ratio's clipping makes
// them nearly useless and their variance high.
#ifndef METARM_PPO_STALENESS_H_
#define METARM_PPO_STALENESS_H_

#include <cstdint>
#include <vector>

#include "rollout/experience.h"

namespace metarm {

struct FreshExperience {
  std::vector<Experience> kept;  // in their original order
  int64_t dropped = 0;           // batches older than the limit
  int64_t max_age = 0;           // the oldest kept batch's age
};

// Keeps the batches at most `max_staleness` versions old. A batch from a
// version newer than the learners' is a protocol error and is dropped too.
FreshExperience DropStale(std::vector<Experience> parts,
                          int64_t learner_version, int64_t max_staleness);

}  // namespace metarm

#endif  // METARM_PPO_STALENESS_H_
