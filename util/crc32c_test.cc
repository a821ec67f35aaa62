#include "util/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(Crc32cTest, KnownValues) {
  // The CRC-32C check value and the all-zero vector of RFC 3720, B.4.
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(""), 0u);
}

}  // namespace
}  // namespace metarm
