// The job's random streams, one per purpose, in one place.
//
//   RandomStreams streams(job.seed());
//   at::Generator g = at::detail::createCPUGenerator(
//       streams.Seed(Stream::kPreferenceLabels));
//   // a sampled sequence: rollout/next_token.h's SequenceStream(
//   //     streams.Seed(Stream::kRolloutSamples, round, iteration), i)
//   std::vector<int64_t> order = ... SubstreamSeed(epoch_seed, 1 + 2 * epoch)
//
// Every random draw of a run comes from a generator seeded by (job seed,
// purpose, position): adding a draw for one purpose never shifts another's,
// and a run's position (round, iteration, rank) fixes its random state, so
// checkpoints need no generator state (rlhf/checkpoint.h) and a run is
// deterministic for a given seed and layout.
//
// The numbers are part of the project's reproducibility: changing a formula
// or a purpose's value changes every run's numbers. New purposes go at the
// end of Stream.
#ifndef METARM_UTIL_RANDOM_STREAMS_H_
#define METARM_UTIL_RANDOM_STREAMS_H_

#include <cstdint>

namespace metarm {

// What a stream is for. The values are fixed (see above).
enum class Stream : uint64_t {
  kSftData = 1,        // SFT prompts and demonstrations, per step
  kPreferencePrompts,  // prompts of the original pairs (0 train, 1 held out)
  kPreferenceSamples,  // the SFT policy's responses to them
  kPreferenceLabels,   // their gold-reward labels
  kRewardInit,         // the reward model's initial weights
  kMetaPrompts,        // the meta set's prompts, per round
  kMetaSamples,        // the current policy's responses to them
  kRolloutPrompts,     // a PPO iteration's prompts
  kRolloutSamples,     // the rollout batch's responses, per round and
                       // iteration (sequence i from substream i, whichever
                       // rollout worker samples it)
  kPpoOrder,           // the minibatch order of a PPO update
  kEvalPrompts,        // held-out prompts (and, per round, shifted pairs')
  kEvalSamples,        // the evaluation's responses (rlhf/evaluation.cc:
                       // 0 the policy's, 1 for the KL, 2 the shifted pairs',
                       // 3 the SFT comparator's)
  kEvalLabels,         // gold labels of the shifted pairs
  kPolicyInit,         // the policy's initial weights
  // experiments/testbed_shift.cc (a study outside the RLHF job).
  kTestbedSftData,      // its SFT prompts and demonstrations
  kTestbedProxyInit,    // its proxy reward model's initial weights
  kTestbedProxyOrder,   // the proxy's data order
  kTestbedSamples,      // its sampled responses
  kTestbedPairPrompts,  // prompts: 0 training pairs, 1 held out, 2 eval
  kTestbedPairLabels,   // gold labels of its pairs
  kTestbedFileLabels,   // labels of the data files it writes
  // preference_file RLHF jobs (rlhf/run_data.h).
  kHeldOutSplit,  // which pairs are held out when eval_pairs is not given
  kFilePrompts,   // prompts drawn from the prompt files
};

// Seed of stream `purpose` at position (a, b, c) of a job seeded `seed`.
constexpr uint64_t StreamSeed(uint64_t seed, Stream purpose, uint64_t a = 0,
                              uint64_t b = 0, uint64_t c = 0) {
  return seed * 1000003 + static_cast<uint64_t>(purpose) * 7919 + a * 104729 +
         b * 1299709 + c * 15485863;
}

// Seed of draw `index` inside a stream seeded `stream_seed` (an epoch's
// permutation, a minibatch order within an update).
constexpr uint64_t SubstreamSeed(uint64_t stream_seed, uint64_t index) {
  return stream_seed * 1000003 + index;
}

// The streams of one job.
class RandomStreams {
 public:
  explicit RandomStreams(uint64_t job_seed) : seed_(job_seed) {}

  uint64_t Seed(Stream purpose, uint64_t a = 0, uint64_t b = 0,
                uint64_t c = 0) const {
    return StreamSeed(seed_, purpose, a, b, c);
  }

  // The reward model's data order in round `round` (≥ 1). It shares the
  // purpose value of kRewardInit (position 0) for reproducibility with runs
  // made before the streams were named; positions ≥ 1 never meet position 0.
  uint64_t RewardDataOrder(int round) const {
    return StreamSeed(seed_, Stream::kRewardInit, static_cast<uint64_t>(round));
  }

  uint64_t job_seed() const { return seed_; }

 private:
  uint64_t seed_;
};

}  // namespace metarm

#endif  // METARM_UTIL_RANDOM_STREAMS_H_
