#include "util/cuda_device_memory.h"

#include <dlfcn.h>

#include "gtest/gtest.h"

namespace metarm {
namespace {

// Either machine: a device the driver has reports a plausible size; a
// machine without a driver, or a device number no machine has, is
// Unavailable with the reason, never a crash.
TEST(CudaDeviceMemoryTest, NoDeviceIsUnavailableWithTheReason) {
  absl::StatusOr<double> bytes = CudaDeviceTotalBytes(4096);
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(absl::IsUnavailable(bytes.status()));
  EXPECT_FALSE(bytes.status().message().empty());
}

TEST(CudaDeviceMemoryTest, DeviceZeroWhereThereIsADriver) {
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  absl::StatusOr<double> bytes = CudaDeviceTotalBytes(0);
  if (driver == nullptr) {
    EXPECT_TRUE(absl::IsUnavailable(bytes.status()));
    EXPECT_NE(bytes.status().message().find("no CUDA driver"),
              std::string::npos);
    return;
  }
  dlclose(driver);
  if (!bytes.ok()) GTEST_SKIP() << bytes.status();  // a driver, no device
  EXPECT_GT(*bytes, 1e8);   // every CUDA GPU has more than 100 MB
  EXPECT_LT(*bytes, 1e13);  // and less than 10 TB
}

}  // namespace
}  // namespace metarm
