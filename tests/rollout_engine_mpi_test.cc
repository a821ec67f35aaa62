// The rollout workers' samples on real MPI ranks: a batch split over 1, 2
// or 4 rollout workers, each sampling its share with the generation engine
// (BuildExperience, the trainer's path) and sharing it (ShareExperience),
// equals the static sampler's batch on one rank, token for token, because
// sequence i draws from stream i wherever it runs.
#include <torch/torch.h>

#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"
#include "rollout/rollout_worker.h"
#include "rollout/sampler.h"
#include "tasks/tokenizer.h"

namespace metarm {
namespace {

TransformerConfig Config() {
  TransformerConfig config;
  config.vocab_size = ByteTokenizer().vocab_size();
  config.d_model = 32;
  config.n_layers = 2;
  config.n_heads = 4;
  config.d_ff = 64;
  config.max_seq_len = 48;
  return config;
}

std::vector<std::string> Prompts() {
  std::vector<std::string> prompts;
  const std::string letters = "zyxwvutsrqponm";
  for (int i = 0; i < 16; ++i) {
    prompts.push_back("sort: " + letters.substr(i % 7, 1 + i % 9));
  }
  return prompts;
}

class RolloutEngineTest : public ::testing::TestWithParam<bool> {};

TEST_P(RolloutEngineTest, SplitBatchEqualsTheStaticSamplersWholeBatch) {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  torch::manual_seed(21);  // the same models on every rank
  LanguageModel policy(Config()), reference(Config());
  ScalarModel reward_model(Config());
  for (torch::nn::Module* m : std::initializer_list<torch::nn::Module*>{
           &*policy, &*reference, &*reward_model}) {
    m->to(torch::kFloat64);
  }
  ByteTokenizer tokenizer;
  GenerationSettings settings;
  settings.sampling.max_new_tokens = 16;
  settings.sampling.eos_id = tokenizer.eos_id();
  settings.sampling.pad_id = tokenizer.pad_id();
  settings.sampling.temperature = 0.8;
  settings.sampling.greedy = GetParam();
  settings.engine.max_sequences = 3;  // continuous batching within a share
  settings.engine.block_tokens = 4;
  const uint64_t seed = 1234;
  const std::vector<std::string> prompts = Prompts();
  const int64_t total = static_cast<int64_t>(prompts.size());
  const int64_t begin = total * world->rank() / world->size();
  const int64_t end = total * (world->rank() + 1) / world->size();
  absl::StatusOr<Experience> mine = BuildExperience(
      {&policy, &reference, &reward_model},
      std::vector<std::string>(prompts.begin() + begin, prompts.begin() + end),
      settings, {seed, begin}, tokenizer);
  ASSERT_TRUE(mine.ok()) << mine.status();
  std::vector<int> roots;
  for (int r = 0; r < world->size(); ++r) roots.push_back(r);
  absl::StatusOr<std::vector<Experience>> parts =
      ShareExperience(*mine, *world, roots, torch::kCPU);
  ASSERT_TRUE(parts.ok()) << parts.status();

  std::vector<TokenSequence> rows;
  for (const std::string& p : prompts) {
    TokenSequence row{tokenizer.bos_id()};
    TokenSequence encoded = tokenizer.Encode(p);
    row.insert(row.end(), encoded.begin(), encoded.end());
    rows.push_back(row);
  }
  std::vector<at::Generator> streams = SequenceStreams(seed, 0, total);
  Generation reference_batch = Generate(
      policy, PadSequences(rows, Padding::kLeft), settings.sampling, streams);

  int64_t row = 0;
  int64_t compared_tokens = 0;
  for (const Experience& part : *parts) {
    const torch::Tensor responses = part.sequences.tokens.narrow(
        1, part.prompt_columns, part.response_mask.size(1));
    for (int64_t r = 0; r < part.size(); ++r, ++row) {
      const int64_t length = part.response_mask[r].sum().item<int64_t>();
      const int64_t expected_length =
          reference_batch.responses.mask[row].sum().item<int64_t>();
      ASSERT_EQ(length, expected_length)
          << "rank " << world->rank() << " row " << row;
      EXPECT_TRUE(torch::equal(
          responses[r].narrow(0, 0, length),
          reference_batch.responses.tokens[row].narrow(0, 0, length)))
          << "rank " << world->rank() << " row " << row;
      compared_tokens += length;
    }
  }
  EXPECT_EQ(row, total);
  EXPECT_GT(compared_tokens, total);
}

INSTANTIATE_TEST_SUITE_P(SampledOrGreedy, RolloutEngineTest, ::testing::Bool());

}  // namespace
}  // namespace metarm
