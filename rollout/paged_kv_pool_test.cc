#include "rollout/paged_kv_pool.h"

#include "gtest/gtest.h"
#include "model/token_batch.h"

namespace metarm {
namespace {

TEST(PagedKvPoolTest, HandsOutBlocksUntilFullAndTakesThemBack) {
  PagedKvPool pool(4, 2);  // block 0 reserved: 3 usable
  EXPECT_EQ(pool.usable_blocks(), 3);
  std::optional<int64_t> a = pool.Allocate(), b = pool.Allocate(),
                         c = pool.Allocate();
  ASSERT_TRUE(a && b && c);
  EXPECT_NE(*a, 0);
  EXPECT_NE(*b, 0);
  EXPECT_NE(*c, 0);
  EXPECT_FALSE(pool.Allocate());
  pool.Retain(*b);
  pool.Release(*b);
  EXPECT_EQ(pool.free_blocks(), 0);
  pool.Release(*b);
  EXPECT_EQ(pool.free_blocks(), 1);
  EXPECT_THROW(pool.Release(*b), std::logic_error);
}

TEST(PagedKvPoolTest, CopiesASharedBlockBeforeAWrite) {
  PagedKvPool pool(6, 2);
  pool.EnsureLayer(0, torch::zeros({1, 1, 1, 3}));
  std::vector<int64_t> first{*pool.Allocate()};
  pool.keys(0).narrow(0, first[0] * 2, 1).fill_(7.0);
  std::vector<int64_t> second = first;
  pool.Retain(first[0]);
  // Position 1 is in the shared block: `second` gets its own copy.
  ASSERT_TRUE(pool.MakeWritable(second, 1));
  EXPECT_NE(second[0], first[0]);
  EXPECT_EQ(pool.references(first[0]), 1);
  EXPECT_TRUE(torch::equal(pool.keys(0).narrow(0, second[0] * 2, 2),
                           pool.keys(0).narrow(0, first[0] * 2, 2)));
  // Now alone in its block: written in place; position 2 adds a block.
  ASSERT_TRUE(pool.MakeWritable(first, 1));
  ASSERT_TRUE(pool.MakeWritable(first, 2));
  EXPECT_EQ(first.size(), 2u);
}

TEST(PagedKvPoolTest, MakeWritableFailsWithoutChangesWhenFull) {
  PagedKvPool pool(2, 2);  // one usable block
  std::vector<int64_t> table{*pool.Allocate()};
  std::vector<int64_t> before = table;
  EXPECT_FALSE(pool.MakeWritable(table, 2));
  EXPECT_EQ(table, before);
}

// The paged step gives the same logits as the contiguous KV cache for a
// prompt then two single tokens.
TEST(PagedStepTest, MatchesTheContiguousCache) {
  TransformerConfig config;
  config.vocab_size = 9;
  config.d_model = 16;
  config.n_layers = 2;
  config.n_heads = 2;
  config.d_ff = 32;
  config.max_seq_len = 16;
  torch::manual_seed(2);
  LanguageModel model(config);
  model->to(torch::kFloat64);
  model->eval();
  torch::NoGradGuard no_grad;
  const std::vector<TokenSequence> prompts{{1, 3, 4, 5, 6}, {1, 7}};
  PagedKvPool pool(16, 3);
  std::vector<std::vector<int64_t>> tables(2);
  for (int r = 0; r < 2; ++r) {
    for (int b = 0; b < 3; ++b) tables[r].push_back(*pool.Allocate());
  }
  TokenBatch right = PadSequences(prompts, Padding::kRight);
  PagedStep prefill(pool, {{&tables[0], 0, 5}, {&tables[1], 0, 2}},
                    torch::kCPU);
  torch::Tensor paged = model->forward(right.tokens, right.mask, &prefill);
  for (int r = 0; r < 2; ++r) {
    KvCache cache;
    TokenBatch one = PadSequences({prompts[r]}, Padding::kLeft);
    torch::Tensor full = model->forward(one.tokens, one.mask, &cache);
    const int64_t n = prompts[r].size();
    EXPECT_TRUE(torch::allclose(paged[r].narrow(0, 0, n), full[0], 0, 1e-12));
    int64_t past = n;
    for (int64_t token : {8, 3}) {
      torch::Tensor t = torch::tensor({{token}}, torch::kInt64);
      PagedStep step(pool, {{&tables[r], past, 1}}, torch::kCPU);
      torch::Tensor a = model->forward(t, torch::ones_like(t), &step);
      torch::Tensor b = model->forward(t, torch::ones_like(t), &cache);
      EXPECT_TRUE(torch::allclose(a, b, 0, 1e-12)) << "row " << r;
      ++past;
    }
  }
}

}  // namespace
}  // namespace metarm
