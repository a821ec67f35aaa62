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

}  // namespace
}  // namespace metarm
