#include "ppo/staleness.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

std::vector<Experience> Versions(std::vector<int64_t> versions) {
  std::vector<Experience> parts;
  for (int64_t v : versions) {
    Experience e;
    e.policy_version = v;
    parts.push_back(e);
  }
  return parts;
}

std::vector<int64_t> KeptVersions(const FreshExperience& fresh) {
  std::vector<int64_t> versions;
  for (const Experience& e : fresh.kept) versions.push_back(e.policy_version);
  return versions;
}

TEST(DropStaleTest, OnPolicyKeepsOnlyTheCurrentVersion) {
  FreshExperience fresh = DropStale(Versions({7, 6, 7}), 7, 0);
  EXPECT_EQ(KeptVersions(fresh), (std::vector<int64_t>{7, 7}));
  EXPECT_EQ(fresh.dropped, 1);
  EXPECT_EQ(fresh.max_age, 0);
}

TEST(DropStaleTest, KeepsBatchesUpToTheLimitInOrder) {
  FreshExperience fresh = DropStale(Versions({5, 3, 6, 4, 2}), 6, 2);
  EXPECT_EQ(KeptVersions(fresh), (std::vector<int64_t>{5, 6, 4}));
  EXPECT_EQ(fresh.dropped, 2);
  EXPECT_EQ(fresh.max_age, 2);
}

TEST(DropStaleTest, DropsBatchesFromTheFuture) {
  FreshExperience fresh = DropStale(Versions({9}), 8, 3);
  EXPECT_TRUE(fresh.kept.empty());
  EXPECT_EQ(fresh.dropped, 1);
}

}  // namespace
}  // namespace metarm
