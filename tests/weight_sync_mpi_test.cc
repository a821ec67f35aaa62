// Weight broadcast on real MPI ranks: after it every rank holds the root's
// weights exactly and the root's version, whatever the bucket size.
#include <torch/torch.h>

#include "comm/gradient_sync.h"
#include "comm/mpi_communicator.h"
#include "comm/weight_sync.h"
#include "gtest/gtest.h"
#include "model/transformer.h"

namespace metarm {
namespace {

TransformerConfig Config() {
  TransformerConfig config;
  config.vocab_size = 50;
  config.d_model = 32;
  config.n_layers = 2;
  config.n_heads = 4;
  config.d_ff = 64;
  config.max_seq_len = 16;
  return config;
}

class WeightSyncTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(WeightSyncTest, EveryRankGetsTheRootsWeightsAndVersion) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int root = world->size() - 1;
  torch::manual_seed(100 + world->rank());  // different weights everywhere
  LanguageModel model(Config());
  torch::manual_seed(100 + root);
  LanguageModel expected(Config());  // what the root holds
  std::vector<torch::Tensor> parameters = model->parameters();
  absl::StatusOr<int64_t> version = BroadcastWeights(
      parameters, world->rank() == root ? 17 : -1, *world, root, GetParam());
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 17) << "rank " << world->rank();
  auto got = model->parameters();
  auto want = expected->parameters();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(torch::equal(got[i], want[i]))
        << "rank " << world->rank() << " parameter " << i;
  }
}

// 1 KiB buckets (many, and tensors larger than a bucket alone), the default.
INSTANTIATE_TEST_SUITE_P(Buckets, WeightSyncTest,
                         ::testing::Values(1024, kDefaultBucketBytes));

// A model with tensors above kInPlaceBytes, so that some travel in place.
TEST(WeightSyncLargeTest, InPlaceTensorsArriveExactly) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  TransformerConfig config = Config();
  config.d_model = 256;
  config.d_ff = 1024;
  torch::manual_seed(200 + world->rank());
  LanguageModel model(config);
  std::vector<torch::Tensor> parameters = model->parameters();
  ASSERT_TRUE(BroadcastWeights(parameters, 5, *world, 0).ok());
  torch::Tensor mine = FlattenParameters(model->parameters());
  torch::Tensor root = mine.clone();
  ASSERT_TRUE(world->Broadcast(root, 0).ok());
  EXPECT_TRUE(torch::equal(mine, root)) << "rank " << world->rank();
}

}  // namespace
}  // namespace metarm
