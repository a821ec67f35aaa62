#include "optim/flat_layout.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

std::vector<torch::Tensor> Parameters() {
  return {torch::arange(6, torch::kFloat32).reshape({2, 3}),
          torch::arange(6, 7, torch::kFloat32).reshape({1}),
          torch::arange(7, 11, torch::kFloat32).reshape({2, 2})};
}

TEST(FlatLayoutTest, ShardsAreEqualAndPaddingIsZero) {
  FlatLayout layout(Parameters(), 3);
  EXPECT_EQ(layout.total(), 11);
  EXPECT_EQ(layout.shard_size(), 4);
  EXPECT_EQ(layout.padded(), 12);
  EXPECT_EQ(layout.shard_begin(2), 8);
  torch::Tensor flat = layout.Flatten(Parameters(), torch::kFloat32);
  torch::Tensor want = torch::arange(12, torch::kFloat32);
  want[11] = 0;
  EXPECT_TRUE(torch::equal(flat, want)) << flat;
}

TEST(FlatLayoutTest, StretchIsThatPartOfTheFlatBuffer) {
  FlatLayout layout(Parameters(), 3);
  torch::Tensor flat = layout.Flatten(Parameters(), torch::kFloat32);
  for (int shard = 0; shard < 3; ++shard) {
    torch::Tensor stretch =
        layout.Stretch(Parameters(), layout.shard_begin(shard),
                       layout.shard_size(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(stretch, flat.narrow(0, layout.shard_begin(shard),
                                                  layout.shard_size())))
        << "shard " << shard << ": " << stretch;
  }
}

TEST(FlatLayoutTest, UndefinedTensorsCountAsZeros) {
  FlatLayout layout(Parameters(), 1);
  std::vector<torch::Tensor> grads = Parameters();
  grads[1] = torch::Tensor();
  torch::Tensor flat = layout.Flatten(grads, torch::kFloat64);
  EXPECT_EQ(flat.scalar_type(), torch::kFloat64);
  EXPECT_EQ(flat[6].item<double>(), 0.0);
  EXPECT_EQ(flat[7].item<double>(), 7.0);
}

TEST(FlatLayoutTest, UnflattenWritesEveryParameterBack) {
  FlatLayout layout(Parameters(), 2);
  std::vector<torch::Tensor> target;
  for (const torch::Tensor& p : Parameters()) {
    target.push_back(torch::zeros_like(p));
  }
  layout.Unflatten(layout.Flatten(Parameters(), torch::kFloat32), target);
  for (size_t i = 0; i < target.size(); ++i) {
    EXPECT_TRUE(torch::equal(target[i], Parameters()[i])) << i;
  }
  // View shares storage with the buffer.
  torch::Tensor flat = torch::zeros({layout.padded()});
  layout.View(flat, 2).fill_(5);
  EXPECT_EQ(flat.sum().item<float>(), 20.0f);
}

TEST(FlatLayoutTest, MoreShardsThanElements) {
  FlatLayout layout({torch::ones({2})}, 4);
  EXPECT_EQ(layout.shard_size(), 1);
  EXPECT_EQ(layout.padded(), 4);
}

}  // namespace
}  // namespace metarm
