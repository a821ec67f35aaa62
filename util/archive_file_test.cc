#include "util/archive_file.h"

#include <dirent.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>

#include "gtest/gtest.h"
#include "util/file.h"

namespace metarm {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

torch::serialize::OutputArchive ArchiveOf(const torch::Tensor& tensor) {
  torch::serialize::OutputArchive archive;
  archive.write("weight", tensor);
  return archive;
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* listing = ::opendir(dir.c_str());
  while (dirent* entry = ::readdir(listing)) {
    if (entry->d_name[0] != '.') names.push_back(entry->d_name);
  }
  ::closedir(listing);
  return names;
}

// The file loads as LibTorch's own file writer's would (the archive's inner
// folder is named "archive" instead of after the file; loading ignores it).
TEST(ArchiveFileTest, WrittenArchiveLoadsBack) {
  const torch::Tensor tensor = torch::arange(1000, torch::kFloat32);
  const std::string dir = TempDir() + "/loads_back";
  ASSERT_TRUE(MakeDirectories(dir).ok());
  torch::serialize::OutputArchive archive = ArchiveOf(tensor);
  ASSERT_TRUE(WriteArchiveAtomically(archive, dir + "/ours.pt").ok());

  torch::serialize::InputArchive in;
  in.load_from(dir + "/ours.pt");
  torch::Tensor read;
  in.read("weight", read);
  EXPECT_TRUE(torch::equal(read, tensor));
  EXPECT_EQ(FilesIn(dir), std::vector<std::string>{"ours.pt"});
}

// A write that the file system refuses part-way (here the file-size limit,
// as a full disk would) is a Status naming the file, not an exception or an
// abort; the old file stays and no temporary is left.
TEST(ArchiveFileTest, RefusedWriteIsAStatusAndKeepsTheOldFile) {
  const std::string dir = TempDir() + "/refused";
  ASSERT_TRUE(MakeDirectories(dir).ok());
  const std::string path = dir + "/weights.pt";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());

  std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
  rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  torch::serialize::OutputArchive archive =
      ArchiveOf(torch::zeros({1 << 20}));  // 4 MiB, over the limit
  const absl::Status status = WriteArchiveAtomically(archive, path);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);

  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path + ": cannot write: "), std::string::npos)
      << status;
  EXPECT_EQ(*ReadFile(path), "old");
  EXPECT_EQ(FilesIn(dir), std::vector<std::string>{"weights.pt"});
}

TEST(AppendLineTest, AFailedAppendLeavesNoHalfLine) {
  const std::string path = TempDir() + "/log.jsonl";
  ASSERT_TRUE(AppendLine(path, "{\"a\": 1}\n").ok());
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 16;  // the second line fits only in part
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status status = AppendLine(path, "{\"b\": 2222222}\n");
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(*ReadFile(path), "{\"a\": 1}\n");
}

}  // namespace
}  // namespace metarm
