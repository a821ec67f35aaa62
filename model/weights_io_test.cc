#include "model/weights_io.h"

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "model/transformer.h"

namespace metarm {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

TransformerConfig Config(int64_t d_model) {
  TransformerConfig config;
  config.vocab_size = 17;
  config.d_model = d_model;
  config.n_layers = 1;
  config.n_heads = 2;
  config.d_ff = 2 * d_model;
  config.max_seq_len = 12;
  return config;
}

bool SameParameters(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.parameters();
  auto pb = b.parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!torch::equal(pa[i], pb[i])) return false;
  }
  return true;
}

TEST(WeightsIoTest, RoundTripRestoresEveryParameter) {
  torch::manual_seed(1);
  ScalarModel saved(Config(8));
  torch::manual_seed(2);
  ScalarModel loaded(Config(8));
  ASSERT_FALSE(SameParameters(*saved, *loaded));
  const std::string path = TempPath("rm.pt");
  ASSERT_TRUE(SaveWeights(*saved, saved->config(), path).ok());
  absl::Status status = LoadWeights(*loaded, loaded->config(), path);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(SameParameters(*saved, *loaded));
}

TEST(WeightsIoTest, OtherArchitectureIsRefusedNamingBothShapes) {
  ScalarModel saved(Config(8));
  ScalarModel other(Config(16));
  const std::string path = TempPath("small.pt");
  ASSERT_TRUE(SaveWeights(*saved, saved->config(), path).ok());
  torch::Tensor before = other->parameters()[0].clone();
  absl::Status status = LoadWeights(*other, other->config(), path);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("d_model 8"), std::string::npos) << status;
  EXPECT_NE(status.message().find("d_model 16"), std::string::npos) << status;
  EXPECT_TRUE(torch::equal(before, other->parameters()[0]));
}

TEST(WeightsIoTest, LanguageModelFileIsNotAScalarModel) {
  LanguageModel lm(Config(8));
  ScalarModel rm(Config(8));
  const std::string path = TempPath("lm.pt");
  ASSERT_TRUE(SaveWeights(*lm, lm->config(), path).ok());
  absl::Status status = LoadWeights(*rm, rm->config(), path);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("has no tensor head."), std::string::npos)
      << status;
}

TEST(WeightsIoTest, TruncatedFileIsDataLoss) {
  ScalarModel rm(Config(8));
  const std::string path = TempPath("truncated.pt");
  ASSERT_TRUE(SaveWeights(*rm, rm->config(), path).ok());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << bytes.substr(0, bytes.size() / 2);
  absl::Status status = LoadWeights(*rm, rm->config(), path);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find(path), std::string::npos);
}

TEST(WeightsIoTest, MissingFileIsNotFound) {
  ScalarModel rm(Config(8));
  EXPECT_EQ(LoadWeights(*rm, rm->config(), TempPath("none.pt")).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace metarm
