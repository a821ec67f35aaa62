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
                       // 0 the policy's, 1 for the KL, 2 the shifted pairs';
                       // 3 was the SFT comparator's: kEvalSftSamples)
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
  kHeldOutSplit,    // which pairs are held out when eval_pairs is not given
  kFilePrompts,     // prompts drawn from the prompt files
  kEvalSftSamples,  // the SFT comparator's evaluation responses (the same
                    // for every round and every arm of a seed)
  kBestOfNSamples,  // the best-of-n pre-test's candidates (SFT policy; the
                    // same for every round and every arm of a seed)
};

// Whether every arm of a seed shares the stream (job.arm_seed leaves it
// alone): what makes the start of a run (the policy's initialisation, SFT,
// the original pairs) and what it is judged on (the evaluation prompts, the
// SFT comparator's samples). Every other stream is the arm's own.
constexpr bool SharedByArms(Stream purpose) {
  switch (purpose) {
    case Stream::kSftData:
    case Stream::kPreferencePrompts:
    case Stream::kPreferenceSamples:
    case Stream::kPreferenceLabels:
    case Stream::kEvalPrompts:
    case Stream::kPolicyInit:
    case Stream::kHeldOutSplit:
    case Stream::kFilePrompts:
    case Stream::kEvalSftSamples:
    case Stream::kBestOfNSamples:
      return true;
    default:
      return false;
  }
}

// What one unit of job.arm_seed adds to the seed of an arm's own stream: a
// prime far above every position term of StreamSeed.
constexpr uint64_t kArmSeedStep = 2147483647;

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

// The streams of one job. `arm_seed` (job.arm_seed) moves only the streams
// that are not SharedByArms: two jobs that differ only in it start from the
// same SFT policy and original pairs, are judged on the same prompts against
// the same SFT samples, and differ in every other draw (the A/A check of a
// paired comparison). With arm_seed 0 every seed is StreamSeed's.
class RandomStreams {
 public:
  explicit RandomStreams(uint64_t job_seed, uint64_t arm_seed = 0)
      : seed_(job_seed), arm_seed_(arm_seed) {}

  uint64_t Seed(Stream purpose, uint64_t a = 0, uint64_t b = 0,
                uint64_t c = 0) const {
    return StreamSeed(seed_, purpose, a, b, c) + ArmOffset(purpose);
  }

  // The reward model's data order in round `round` (≥ 1). It shares the
  // purpose value of kRewardInit (position 0) for reproducibility with runs
  // made before the streams were named; positions ≥ 1 never meet position 0.
  uint64_t RewardDataOrder(int round) const {
    return StreamSeed(seed_, Stream::kRewardInit,
                      static_cast<uint64_t>(round)) +
           ArmOffset(Stream::kRewardInit);
  }

  uint64_t job_seed() const { return seed_; }

 private:
  uint64_t ArmOffset(Stream purpose) const {
    return SharedByArms(purpose) ? 0 : arm_seed_ * kArmSeedStep;
  }

  uint64_t seed_;
  uint64_t arm_seed_;
};

}  // namespace metarm

#endif  // METARM_UTIL_RANDOM_STREAMS_H_
