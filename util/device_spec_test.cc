#include "util/device_spec.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

std::string Resolve(const std::string& text, int local_rank, int gpus) {
  absl::StatusOr<DeviceSpec> spec = ParseDeviceSpec(text);
  if (!spec.ok()) return std::string(spec.status().message());
  absl::StatusOr<std::string> device = ResolveDevice(*spec, local_rank, gpus);
  return device.ok() ? *device : std::string(device.status().message());
}

TEST(DeviceSpecTest, AutoTakesTheLocalRanksGpuOrTheCpu) {
  EXPECT_EQ(Resolve("auto", 1, 0), "cpu");
  EXPECT_EQ(Resolve("", 1, 0), "cpu");
  EXPECT_EQ(Resolve("auto", 1, 8), "cuda:1");
}

TEST(DeviceSpecTest, ExplicitDevices) {
  EXPECT_EQ(Resolve("cpu", 0, 8), "cpu");
  EXPECT_EQ(Resolve("cuda", 3, 4), "cuda:3");
  EXPECT_EQ(Resolve("cuda:2", 0, 4), "cuda:2");
}

TEST(DeviceSpecTest, CudaThatCannotBeMetSaysWhy) {
  EXPECT_NE(Resolve("cuda", 0, 0).find("sees no CUDA device"),
            std::string::npos);
  const std::string too_many = Resolve("auto", 4, 4);
  EXPECT_NE(too_many.find("sees 4 CUDA device(s) and is local rank 4"),
            std::string::npos)
      << too_many;
  EXPECT_NE(Resolve("cuda:7", 0, 2).find("cuda:7"), std::string::npos);
}

TEST(DeviceSpecTest, MalformedSpecsAreRefused) {
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "CPU"}) {
    absl::StatusOr<DeviceSpec> spec = ParseDeviceSpec(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_NE(spec.status().message().find("expected auto, cpu, cuda"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace metarm
