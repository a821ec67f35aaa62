#include "util/file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace metarm {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(FileTest, WriteThenReadRoundTrips) {
  const std::string path = TempDir() + "/roundtrip.txt";
  ASSERT_TRUE(WriteFileAtomically(path, std::string("a\0b", 3)).ok());
  absl::StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, std::string("a\0b", 3));
}

TEST(FileTest, MissingFileIsNotFoundAndNamesThePath) {
  absl::StatusOr<std::string> read = ReadFile(TempDir() + "/no_such_file");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("no_such_file"), std::string::npos);
}

TEST(FileTest, DirectoryIsNotReadAsAFile) {
  absl::StatusOr<std::string> read = ReadFile(TempDir());
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("directory"), std::string::npos);
}

TEST(FileTest, FailedWriteLeavesTheOldFileIntact) {
  const std::string path = TempDir() + "/kept.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  // A file cannot be written inside a path component that is a file.
  EXPECT_FALSE(WriteFileAtomically(path + "/child", "new").ok());
  EXPECT_EQ(*ReadFile(path), "old");
}

TEST(FileTest, MakeDirectoriesCreatesParentsAndIsIdempotent) {
  const std::string path = TempDir() + "/a/b/c";
  ASSERT_TRUE(MakeDirectories(path).ok());
  ASSERT_TRUE(MakeDirectories(path).ok());
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
}

TEST(FileTest, MakeDirectoriesRefusesAFileInTheWay) {
  const std::string file = TempDir() + "/plain";
  ASSERT_TRUE(WriteFileAtomically(file, "x").ok());
  EXPECT_FALSE(MakeDirectories(file).ok());
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
