#include "comm/bucket_plan.h"

#include "comm/in_place.h"
#include "gtest/gtest.h"

namespace metarm {
namespace {

using Members = std::vector<size_t>;

TEST(PlanBucketsTest, FillsUpToTheLimitAndSplitsByType) {
  std::vector<torch::Tensor> tensors = {
      torch::zeros({10}), torch::zeros({10}), torch::zeros({30}),
      torch::zeros({5}, torch::kFloat64), torch::zeros({1})};
  // 40, 40, 120, 40, 4 bytes; limit 100.
  auto buckets =
      PlanBuckets(tensors, ForwardOrder(5), 100, LargeTensors::kAlone);
  ASSERT_EQ(buckets.size(), 4u);
  EXPECT_EQ(buckets[0].members, (Members{0, 1}));
  EXPECT_EQ(buckets[1].members, (Members{2}));  // too big to join
  EXPECT_EQ(buckets[2].members, (Members{3}));  // float64
  EXPECT_EQ(buckets[3].members, (Members{4}));
  for (const TensorBucket& b : buckets) EXPECT_FALSE(b.in_place);
}

TEST(PlanBucketsTest, LargeTensorsTravelAloneAndSmallOnesArePackedAcrossThem) {
  const int64_t large = kInPlaceBytes / 4;  // float32 elements
  std::vector<torch::Tensor> tensors = {
      torch::zeros({10}), torch::zeros({10}),        torch::zeros({large}),
      torch::zeros({10}), torch::zeros({large + 1}), torch::zeros({10})};
  auto buckets = PlanBuckets(tensors, ForwardOrder(6), kDefaultBucketBytes,
                             LargeTensors::kAlone);
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].members, (Members{0, 1, 3, 5}));
  EXPECT_FALSE(buckets[0].in_place);
  EXPECT_EQ(buckets[1].members, (Members{2}));
  EXPECT_TRUE(buckets[1].in_place);
  EXPECT_EQ(buckets[2].members, (Members{4}));
  EXPECT_TRUE(buckets[2].in_place);
  // A large tensor that is not contiguous is packed like a small one.
  tensors[2] = torch::zeros({2, large / 2}).t();
  buckets = PlanBuckets(tensors, ForwardOrder(6), kDefaultBucketBytes,
                        LargeTensors::kAlone);
  EXPECT_EQ(buckets[0].members, (Members{0, 1, 2, 3, 5}));
}

TEST(PlanBucketsTest, PackedInReverseOrderForTheOverlappedReducer) {
  const int64_t large = kInPlaceBytes / 4;
  std::vector<torch::Tensor> tensors = {
      torch::zeros({10}), torch::zeros({large}), torch::zeros({10})};
  auto buckets = PlanBuckets(tensors, ReverseOrder(3), kInPlaceBytes,
                             LargeTensors::kPacked);
  // Taken as 2, 1, 0: 40 bytes open a bucket; the large tensor would pass
  // the limit beside them, so it opens the next, which is then full.
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].members, (Members{2}));
  EXPECT_EQ(buckets[1].members, (Members{1}));
  EXPECT_EQ(buckets[2].members, (Members{0}));
  for (const TensorBucket& b : buckets) EXPECT_FALSE(b.in_place);
  // With room for all, one bucket in reverse order.
  buckets = PlanBuckets(tensors, ReverseOrder(3), kDefaultBucketBytes,
                        LargeTensors::kPacked);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].members, (Members{2, 1, 0}));
}

}  // namespace
}  // namespace metarm
