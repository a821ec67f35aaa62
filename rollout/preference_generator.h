// Preference data and meta sets from a policy's samples, labelled by a
// task's gold reward (the testbed's stand-in for human labellers).
//
//   METARM_ASSIGN_OR_RETURN(
//       std::vector<std::vector<std::string>> responses,
//       SampleResponses(policy, prompts, /*k=*/2, settings, seed, tok));
//   std::vector<PreferencePair> pairs =
//       LabelPairs(task, prompts, responses, /*temperature=*/0.5, rng, tok);
//   std::vector<ResponseSet> meta = MakeResponseSets(prompts, responses, tok);
#ifndef METARM_ROLLOUT_PREFERENCE_GENERATOR_H_
#define METARM_ROLLOUT_PREFERENCE_GENERATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/transformer.h"
#include "rollout/generation_engine.h"
#include "tasks/preference_data.h"
#include "tasks/task.h"
#include "tasks/tokenizer.h"
#include "util/random.h"

namespace metarm {

// k sampled responses (text, up to the end token) for every prompt, from the
// generation engine (each prompt prefilled once for its k responses);
// response j of prompt i draws from SequenceStream(stream_seed, i·k + j).
absl::StatusOr<std::vector<std::vector<std::string>>> SampleResponses(
    LanguageModel& policy, const std::vector<std::string>& prompts, int k,
    const GenerationSettings& settings, uint64_t stream_seed,
    const Tokenizer& tokenizer);

// One pair per prompt from its first two responses, labelled by the
// Bradley-Terry model on the gold reward: the first is chosen with
// probability σ((r*(x, a) − r*(x, b)) / temperature). Ties are labelled by a
// fair coin.
std::vector<PreferencePair> LabelPairs(
    const Task& task, const std::vector<std::string>& prompts,
    const std::vector<std::vector<std::string>>& responses, double temperature,
    Rng& rng, const Tokenizer& tokenizer);

// The meta set: every prompt with all its responses, no labels.
std::vector<ResponseSet> MakeResponseSets(
    const std::vector<std::string>& prompts,
    const std::vector<std::vector<std::string>>& responses,
    const Tokenizer& tokenizer);

// `n` prompts drawn from the task with a generator seeded by `seed`.
std::vector<std::string> SamplePrompts(const Task& task, int64_t n,
                                       uint64_t seed);

}  // namespace metarm

#endif  // METARM_ROLLOUT_PREFERENCE_GENERATOR_H_
