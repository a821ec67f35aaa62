// What a rollout worker does each PPO iteration: sample responses for its
// share of the prompts and score them, then share the batch with the
// learners.
//
//   METARM_ASSIGN_OR_RETURN(Experience mine,
//       BuildExperience(models, my_prompts, settings, {seed, first}, tok));
//   std::vector<Experience> parts = ShareExperience(mine, world, roots);
//
// Scoring split: the rollout worker computes everything that needs the
// policy, the frozen reference and the reward model (old and reference
// log-probabilities, reward scores); the learners compute the critic's values
// themselves, since the critic changes during the update and lives only on
// them. So the critic's weights never travel.
#ifndef METARM_ROLLOUT_ROLLOUT_WORKER_H_
#define METARM_ROLLOUT_ROLLOUT_WORKER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "rollout/experience.h"
#include "rollout/generation_engine.h"
#include "tasks/tokenizer.h"

namespace metarm {

struct RolloutModels {
  LanguageModel* policy;
  LanguageModel* reference;
  ScalarModel* reward_model;
};

// Where a batch's sequences draw from: sequence i from
// SequenceStream(seed, first + i) (rollout/next_token.h). A rollout worker's
// share starts at its first prompt's index in the whole batch, so the batch
// is the same whatever the number of rollout workers.
struct SampleStreams {
  uint64_t seed = 0;
  int64_t first = 0;
};

// One response per prompt, sampled from the policy by the generation
// engine, scored. Without gradients; old log-probabilities at temperature 1,
// as the learners compute them.
// The batch is tagged with `policy_version` and carries its generation and
// scoring times.
absl::StatusOr<Experience> BuildExperience(
    const RolloutModels& models, const std::vector<std::string>& prompts,
    const GenerationSettings& settings, SampleStreams streams,
    const Tokenizer& tokenizer, int64_t policy_version = 0);

// Collective over `world`: the rollout worker at each world rank of `roots`
// (in order) broadcasts its batch; every rank returns all of them, in that
// order. `mine` is used on the roots only. The batches travel and arrive on
// `device`, this rank's (the same kind on every rank, so that every rank
// routes each broadcast over the same backend).
absl::StatusOr<std::vector<Experience>> ShareExperience(
    const Experience& mine, Communicator& world, const std::vector<int>& roots,
    const torch::Device& device = torch::kCPU);

// The text of each row's prompt and response (special tokens dropped).
std::vector<std::pair<std::string, std::string>> DecodeExperience(
    const Experience& experience, const Tokenizer& tokenizer);

}  // namespace metarm

#endif  // METARM_ROLLOUT_ROLLOUT_WORKER_H_
