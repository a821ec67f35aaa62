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
  // The folder is the file, or the file is one of the folders above it: the
  // same kind of error either way (a bad path, exit 2 in metarm_train).
  EXPECT_TRUE(absl::IsFailedPrecondition(MakeDirectories(file)));
  const absl::Status below = MakeDirectories(file + "/out/deeper");
  EXPECT_TRUE(absl::IsFailedPrecondition(below)) << below;
  EXPECT_NE(below.message().find("a part of the path is a file"),
            std::string::npos);
}

}  // namespace
}  // namespace metarm
