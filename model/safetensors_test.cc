#include "model/safetensors.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "gtest/gtest.h"
#include "util/file.h"

namespace metarm {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

// A file laid out by hand: the length, the header, the data.
std::string FileBytes(const std::string& header, const std::string& data) {
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) {
    file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  return file + header + data;
}

std::string FloatBytes(std::vector<float> values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

absl::StatusOr<TensorMap> ReadBytes(const std::string& name,
                                    const std::string& bytes) {
  const std::string path = TempPath(name);
  EXPECT_TRUE(WriteFileAtomically(path, bytes).ok());
  return ReadSafetensors(path);
}

TEST(SafetensorsTest, ReadsAHandWrittenFile) {
  absl::StatusOr<TensorMap> tensors = ReadBytes(
      "hand.safetensors",
      FileBytes(R"({"__metadata__":{"format":"pt"},)"
                R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)"
                R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})",
                FloatBytes({1, 2, 3, 4.5, -5})));
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ASSERT_EQ(tensors->size(), 2u);
  EXPECT_TRUE(torch::equal(tensors->at("a"), torch::tensor({1.f, 2.f, 3.f})));
  EXPECT_TRUE(torch::equal(tensors->at("b"), torch::tensor({4.5f, -5.f})));
}

TEST(SafetensorsTest, RoundTripsEveryDtype) {
  TensorMap tensors = {{"f32", torch::randn({3, 4})},
                       {"f16", torch::randn({5}).to(torch::kFloat16)},
                       {"bf16", torch::randn({2, 2, 2}).to(torch::kBFloat16)},
                       {"empty", torch::zeros({0, 3})}};
  const std::string path = TempPath("round_trip.safetensors");
  ASSERT_TRUE(WriteSafetensors(path, tensors, {{"format", "pt"}}).ok());
  absl::StatusOr<TensorMap> back = ReadSafetensors(path);
  ASSERT_TRUE(back.ok()) << back.status();
  for (const auto& [name, tensor] : tensors) {
    EXPECT_EQ(back->at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back->at(name), tensor)) << name;
  }
}

TEST(SafetensorsTest, RefusesOtherDtypesOnWrite) {
  absl::Status written = WriteSafetensors(
      TempPath("int.safetensors"), {{"ids", torch::ones({2}, torch::kInt64)}});
  EXPECT_EQ(written.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(written.message().find("tensor 'ids'"), std::string::npos);
}

void ExpectRefused(const std::string& name, const std::string& bytes,
                   const std::string& expected) {
  absl::StatusOr<TensorMap> tensors = ReadBytes(name, bytes);
  ASSERT_FALSE(tensors.ok()) << name;
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(tensors.status().message().find(name), std::string::npos)
      << tensors.status();
  EXPECT_NE(tensors.status().message().find(expected), std::string::npos)
      << tensors.status();
}

const std::string kOneTensor =
    R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST(SafetensorsTest, RefusesMalformedFiles) {
  ExpectRefused("short", "abc", "shorter than 8 bytes");
  ExpectRefused("truncated_header", FileBytes(kOneTensor, "").substr(0, 20),
                "runs past the end of the file");
  ExpectRefused("truncated_data", FileBytes(kOneTensor, FloatBytes({1})),
                "outside the data's 4 bytes");
  ExpectRefused("not_json", FileBytes("{\"w\": [1, ", ""),
                "the header is not a JSON object");
  ExpectRefused(
      "unknown_dtype",
      FileBytes(R"({"w":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})",
                "ab"),
      "tensor 'w' has dtype F8; supported: F32, F16, BF16");
  ExpectRefused(
      "shape_mismatch",
      FileBytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                FloatBytes({1, 2})),
      "tensor 'w' has 8 bytes for a shape of 3 F32 elements");
  ExpectRefused(
      "overlap",
      FileBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                FloatBytes({1, 2, 3})),
      "tensors 'a' and 'b' overlap");
  ExpectRefused("missing_fields", FileBytes(R"({"w":{"dtype":"F32"}})", ""),
                "tensor 'w' needs dtype, shape and two data_offsets");
  ExpectRefused(
      "negative_shape",
      FileBytes(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})",
                ""),
      "tensor 'w' has a bad shape");
}

TEST(SafetensorsTest, ReadsShardedCheckpoints) {
  const std::string folder = TempPath("sharded");
  std::filesystem::create_directories(folder);
  ASSERT_TRUE(WriteSafetensors(folder + "/model-1.safetensors",
                               {{"a", torch::ones({2})}})
                  .ok());
  ASSERT_TRUE(WriteSafetensors(folder + "/model-2.safetensors",
                               {{"b", torch::zeros({3})}})
                  .ok());
  const std::string index = folder + "/model.safetensors.index.json";
  ASSERT_TRUE(WriteFileAtomically(
                  index,
                  R"({"metadata":{},"weight_map":{"a":"model-1.safetensors",)"
                  R"("b":"model-2.safetensors"}})")
                  .ok());
  absl::StatusOr<TensorMap> tensors = ReadShardedSafetensors(index);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_TRUE(torch::equal(tensors->at("a"), torch::ones({2})));
  EXPECT_TRUE(torch::equal(tensors->at("b"), torch::zeros({3})));

  ASSERT_TRUE(WriteFileAtomically(index,
                                  R"({"weight_map":{"a":"model-2.safetensors",)"
                                  R"("b":"model-2.safetensors"}})")
                  .ok());
  tensors = ReadShardedSafetensors(index);
  ASSERT_FALSE(tensors.ok());
  EXPECT_NE(tensors.status().message().find(
                "tensor 'a' is not in model-2.safetensors"),
            std::string::npos)
      << tensors.status();

  ASSERT_TRUE(WriteFileAtomically(
                  index, R"({"weight_map":{"a":"model-1.safetensors"}})")
                  .ok());
  ASSERT_TRUE(
      WriteSafetensors(folder + "/model-1.safetensors",
                       {{"a", torch::ones({2})}, {"c", torch::ones({1})}})
          .ok());
  tensors = ReadShardedSafetensors(index);
  ASSERT_FALSE(tensors.ok());
  EXPECT_NE(tensors.status().message().find(
                "model-1.safetensors holds 'c', which the index does not name"),
            std::string::npos)
      << tensors.status();
}

}  // namespace
}  // namespace metarm
