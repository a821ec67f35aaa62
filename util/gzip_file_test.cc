#include "util/gzip_file.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "util/file.h"

namespace metarm {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// "hello\n" gzipped (python3 -c 'import gzip;print(gzip.compress(b"hello\n",
// mtime=0).hex())').
const char kHelloGz[] = "1f8b0800000000000203cb48cdc9c9e7020020303a3606000000";

std::string FromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(
        static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

TEST(ReadMaybeGzippedTest, DecompressesGzipAndPassesPlainText) {
  const std::string gz = TempDir() + "/hello.gz";
  ASSERT_TRUE(WriteFileAtomically(gz, FromHex(kHelloGz)).ok());
  absl::StatusOr<std::string> text = ReadMaybeGzipped(gz);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "hello\n");
  const std::string plain = TempDir() + "/plain.txt";
  ASSERT_TRUE(WriteFileAtomically(plain, "plain").ok());
  EXPECT_EQ(*ReadMaybeGzipped(plain), "plain");
}

TEST(ReadMaybeGzippedTest, TruncatedGzipIsDataLoss) {
  const std::string gz = TempDir() + "/cut.gz";
  const std::string bytes = FromHex(kHelloGz);
  ASSERT_TRUE(WriteFileAtomically(gz, bytes.substr(0, bytes.size() - 6)).ok());
  absl::StatusOr<std::string> text = ReadMaybeGzipped(gz);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(text.status().message().find("cut.gz"), std::string::npos);
}

}  // namespace
}  // namespace metarm
