// From preference data to the batches the reward trainer takes, and the
// evaluations on held-out data.
//
//   SequenceLimits limits{32, 32};
//   PreferenceBatch batch = MakePreferenceBatch(pairs, indices, limits, tok);
//   double accuracy = EvaluateAccuracy(model, eval_pairs, limits, tok);
#ifndef METARM_REWARD_REWARD_DATA_H_
#define METARM_REWARD_REWARD_DATA_H_

#include <vector>

#include "model/transformer.h"
#include "reward/reward_gaps.h"
#include "reward/reward_trainer.h"
#include "tasks/preference_data.h"
#include "tasks/tokenizer.h"

namespace metarm {

// How much of a prompt and a response the model sees (see
// JoinPromptResponse).
struct SequenceLimits {
  int64_t max_prompt_tokens = 32;
  int64_t max_response_tokens = 32;
};

// The pairs at `indices`, each side as [BOS] prompt response [EOS].
PreferenceBatch MakePreferenceBatch(const std::vector<PreferencePair>& pairs,
                                    const std::vector<int64_t>& indices,
                                    const SequenceLimits& limits,
                                    const Tokenizer& tokenizer);

// The response sets at `indices` (each with k responses), prompt-major.
MetaBatch MakeMetaBatch(const std::vector<ResponseSet>& sets,
                        const std::vector<int64_t>& indices,
                        const SequenceLimits& limits,
                        const Tokenizer& tokenizer);

// Whether a pair's two responses are the same tokens: its label says nothing
// about the responses, and any scorer ties on it.
bool SameResponses(const PreferencePair& pair);

// The pairs whose responses differ, in order.
std::vector<PreferencePair> DistinctPairs(
    const std::vector<PreferencePair>& pairs);

// Pairwise accuracy of `model` on the DistinctPairs of `pairs` (0 when there
// are none), in batches, without gradients. A pair of identical responses is
// left out rather than scored as an error.
double EvaluateAccuracy(ScalarModel& model,
                        const std::vector<PreferencePair>& pairs,
                        const SequenceLimits& limits,
                        const Tokenizer& tokenizer, int64_t batch_size = 64);

// The scores of every set's responses, [sets, k], without gradients.
torch::Tensor ScoreResponseSets(ScalarModel& model,
                                const std::vector<ResponseSet>& sets,
                                const SequenceLimits& limits,
                                const Tokenizer& tokenizer,
                                int64_t batch_size = 16);

}  // namespace metarm

#endif  // METARM_REWARD_REWARD_DATA_H_
