// The overlapped gradient all-reduce on real MPI ranks: after backward and
// Finish, every parameter's gradient equals what the flat all-reduce gives
// for the same local gradients, for any bucket size, over several steps, and
// with a parameter that gets no gradient.
#include <torch/torch.h>

#include "comm/gradient_sync.h"
#include "comm/mpi_communicator.h"
#include "comm/overlapped_reducer.h"
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

// A loss whose gradients differ on every rank.
torch::Tensor Loss(LanguageModel& model, int rank, int step) {
  torch::manual_seed(1000 * step + rank);
  torch::Tensor tokens = torch::randint(0, 50, {3, 10});
  return model->forward(tokens, torch::ones_like(tokens)).pow(2).mean();
}

class OverlappedReducerTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(OverlappedReducerTest, MatchesTheFlatAllReduce) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  torch::manual_seed(7);
  LanguageModel model(Config());
  torch::manual_seed(7);
  LanguageModel reference(Config());  // the same weights, no hooks
  std::vector<torch::Tensor> parameters = model->parameters();
  // An extra parameter outside the graph: no gradient, reduced as zeros.
  torch::Tensor unused = torch::ones({5}, torch::requires_grad());
  parameters.push_back(unused);
  OverlappedGradientReducer reducer(parameters, *world, ReduceOp::kAverage,
                                    GetParam());
  for (int step = 0; step < 3; ++step) {
    std::vector<torch::Tensor> expected;
    for (const torch::Tensor& g : torch::autograd::grad(
             {Loss(reference, world->rank(), step)}, reference->parameters())) {
      expected.push_back(g.clone());
    }
    expected.push_back(torch::zeros({5}));
    ASSERT_TRUE(AllReduceTensors(expected, *world, ReduceOp::kAverage).ok());

    for (torch::Tensor& p : parameters) p.mutable_grad() = torch::Tensor();
    Loss(model, world->rank(), step).backward();
    ASSERT_TRUE(reducer.Finish().ok());
    for (size_t i = 0; i < parameters.size(); ++i) {
      ASSERT_TRUE(parameters[i].grad().defined()) << i;
      EXPECT_TRUE(
          torch::allclose(parameters[i].grad(), expected[i], 1e-6, 1e-7))
          << "rank " << world->rank() << ", step " << step << ", parameter "
          << i;
    }
  }
  EXPECT_GE(reducer.buckets(), GetParam() < 1000 ? 2 : 1);
}

// 25 MB (one bucket here), 4 KB (many), 1 byte (one tensor per bucket).
INSTANTIATE_TEST_SUITE_P(BucketBytes, OverlappedReducerTest,
                         ::testing::Values(int64_t{25} << 20, 4096, 1));

}  // namespace
}  // namespace metarm
