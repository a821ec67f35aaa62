// The PPO half of an RLHF round: rollout workers sample and score batches
// with the weights they hold, the learners update the policy and the critic
// on them, learner 0 sends the new weights back.
//
// Rollouts run `lag` = ppo.max_staleness batches ahead of the learners:
// batch i is sampled with the weights of update i - lag (the round's first
// weights for i < lag), so in a SEPARATE layout the rollout workers sample
// batch i + lag while the learners update on batch i. lag 0 is synchronous
// and on-policy. The schedule is fixed, not raced, so a run is
// deterministic for any lag and layout.
#ifndef METARM_RLHF_PPO_ITERATIONS_H_
#define METARM_RLHF_PPO_ITERATIONS_H_

#include <functional>

#include "absl/status/status.h"
#include "rlhf/run_parts.h"

namespace metarm {

// Called after every iteration with the position reached; takes a
// checkpoint where one is due (rlhf/rlhf_job.cc).
using IterationCheckpoint = std::function<absl::Status(RunPosition at)>;

// Every rank: PPO iterations `first`.. of round `round` (first is 0 unless
// the run resumed inside the round; checkpoints inside a round are only
// taken with lag 0, by job validation, so no sampled batch is lost). `ppo`
// is null on ranks that are not learners. Learner 0 appends one line per
// iteration to metrics.jsonl and shows the progress.
absl::Status RunPpoIterations(const RunInputs& in, int round, int first,
                              const RankGroups& ranks, RlhfModels& models,
                              PpoLearner* ppo, PolicyCounters& counters,
                              RunOutput& output,
                              const IterationCheckpoint& checkpoint);

}  // namespace metarm

#endif  // METARM_RLHF_PPO_ITERATIONS_H_
