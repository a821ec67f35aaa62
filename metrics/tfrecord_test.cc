#include "metrics/tfrecord.h"

#include "gtest/gtest.h"
#include "util/crc32c.h"

namespace metarm {
namespace {

TEST(MaskedCrc32cTest, RotatesAndAddsTheConstant) {
  const uint32_t crc = 0xe3069283u;
  EXPECT_EQ(MaskedCrc32c("123456789"),
            static_cast<uint32_t>(((crc >> 15) | (crc << 17)) + 0xa282ead8u));
}

uint64_t ReadLittleEndian(const std::string& bytes, size_t at, int count) {
  uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  }
  return value;
}

TEST(FrameRecordTest, LengthDataAndBothChecksums) {
  const std::string framed = FrameRecord("hello");
  ASSERT_EQ(framed.size(), 8u + 4 + 5 + 4);
  EXPECT_EQ(ReadLittleEndian(framed, 0, 8), 5u);
  EXPECT_EQ(ReadLittleEndian(framed, 8, 4), MaskedCrc32c(framed.substr(0, 8)));
  EXPECT_EQ(framed.substr(12, 5), "hello");
  EXPECT_EQ(ReadLittleEndian(framed, 17, 4), MaskedCrc32c("hello"));
}

}  // namespace
}  // namespace metarm
