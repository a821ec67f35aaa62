// How many KV-cache blocks a prompt and its responses may need at most: the
// generation engine's admission rule and the job validation's check of
// generation.kv_pool_blocks (proto/job_validation.cc) share it.
#ifndef METARM_ROLLOUT_KV_BLOCKS_H_
#define METARM_ROLLOUT_KV_BLOCKS_H_

#include <cstdint>

namespace metarm {

constexpr int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A response stores its prompt and all its tokens but the last (whose keys
// and values no later token reads). With shared prompts, the prompt's full
// blocks are held once and never written; a partly filled last prompt block
// is copied by each response that writes into it.
constexpr int64_t WorstCaseBlocks(int64_t prompt_tokens, int64_t responses,
                                  int64_t max_new_tokens, int64_t block_tokens,
                                  bool share_prompts) {
  const int64_t stored =
      CeilDiv(prompt_tokens + max_new_tokens - 1, block_tokens);
  if (!share_prompts) return responses * stored;
  const int64_t shared = prompt_tokens / block_tokens;
  return shared + responses * (stored - shared);
}

}  // namespace metarm

#endif  // METARM_ROLLOUT_KV_BLOCKS_H_
