#include "util/random_streams.h"

#include <set>

#include "gtest/gtest.h"

namespace metarm {
namespace {

// The formulas are part of every run's reproducibility: these values were
// computed by hand from seed·1000003 + purpose·7919 + a·104729 + b·1299709 +
// c·15485863 and must not change.
TEST(RandomStreamsTest, SeedsAreTheDocumentedFormula) {
  EXPECT_EQ(StreamSeed(3, Stream::kSftData), 3 * 1000003u + 7919u);
  EXPECT_EQ(StreamSeed(3, Stream::kRolloutSamples, 2, 5, 1),
            3 * 1000003u + 9 * 7919u + 2 * 104729u + 5 * 1299709u + 15485863u);
  EXPECT_EQ(SubstreamSeed(11, 4), 11 * 1000003u + 4);
  RandomStreams streams(3);
  EXPECT_EQ(streams.Seed(Stream::kPolicyInit), 3 * 1000003u + 14 * 7919u);
  EXPECT_EQ(streams.RewardDataOrder(2), 3 * 1000003u + 5 * 7919u + 2 * 104729u);
}

TEST(RandomStreamsTest, PurposesAndPositionsGiveDistinctSeeds) {
  RandomStreams streams(7);
  std::set<uint64_t> seen;
  for (uint64_t purpose = 1; purpose <= 14; ++purpose) {
    for (uint64_t round = 0; round < 4; ++round) {
      for (uint64_t iteration = 0; iteration < 4; ++iteration) {
        EXPECT_TRUE(seen.insert(streams.Seed(static_cast<Stream>(purpose),
                                             round, iteration))
                        .second);
      }
    }
  }
  // The reward model's data order never meets its initialisation.
  for (int round = 1; round < 100; ++round) {
    EXPECT_NE(streams.RewardDataOrder(round),
              streams.Seed(Stream::kRewardInit));
  }
}

TEST(RandomStreamsTest, ArmSeedZeroIsTheJobSeedAlone) {
  RandomStreams plain(5), arm_zero(5, 0);
  for (uint64_t purpose = 1; purpose <= 24; ++purpose) {
    const Stream stream = static_cast<Stream>(purpose);
    EXPECT_EQ(arm_zero.Seed(stream, 2, 1), StreamSeed(5, stream, 2, 1));
    EXPECT_EQ(arm_zero.Seed(stream, 2, 1), plain.Seed(stream, 2, 1));
  }
  EXPECT_EQ(arm_zero.RewardDataOrder(3), plain.RewardDataOrder(3));
}

// Two arms of one seed share the run's start and what it is judged on, and
// nothing else.
TEST(RandomStreamsTest, ArmsShareOnlyTheSharedStreams) {
  RandomStreams a(5, 0), b(5, 1);
  for (Stream shared : {Stream::kSftData, Stream::kPreferencePrompts,
                        Stream::kPreferenceSamples, Stream::kPreferenceLabels,
                        Stream::kEvalPrompts, Stream::kPolicyInit,
                        Stream::kHeldOutSplit, Stream::kFilePrompts,
                        Stream::kEvalSftSamples, Stream::kBestOfNSamples}) {
    EXPECT_TRUE(SharedByArms(shared));
    EXPECT_EQ(a.Seed(shared, 1, 2), b.Seed(shared, 1, 2));
  }
  for (Stream own :
       {Stream::kRewardInit, Stream::kMetaPrompts, Stream::kMetaSamples,
        Stream::kRolloutPrompts, Stream::kRolloutSamples, Stream::kPpoOrder,
        Stream::kEvalSamples, Stream::kEvalLabels}) {
    EXPECT_FALSE(SharedByArms(own));
    EXPECT_NE(a.Seed(own, 1, 2), b.Seed(own, 1, 2));
  }
  EXPECT_NE(a.RewardDataOrder(1), b.RewardDataOrder(1));
  // An arm's stream never meets another seed's or arm's first few.
  std::set<uint64_t> seen;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    for (uint64_t arm = 0; arm < 4; ++arm) {
      EXPECT_TRUE(
          seen.insert(RandomStreams(seed, arm).Seed(Stream::kRolloutSamples))
              .second);
    }
  }
}

}  // namespace
}  // namespace metarm
