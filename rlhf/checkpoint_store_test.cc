#include "rlhf/checkpoint_store.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "util/file.h"

namespace metarm {
namespace {

namespace fs = std::filesystem;

std::string FreshRoot(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string root =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  fs::remove_all(root);
  return root;
}

void WriteCheckpoint(const std::string& root, int64_t sequence,
                     const std::string& payload) {
  absl::StatusOr<CheckpointWriter> writer =
      CheckpointWriter::Begin(root, sequence);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE(WriteFileAtomically(writer->PathOf("a.bin"), payload).ok());
  ASSERT_TRUE(WriteFileAtomically(writer->PathOf("b.txt"), "bee").ok());
  ASSERT_TRUE(writer->Commit({{"round", sequence}}).ok());
}

TEST(CheckpointStoreTest, NoCheckpointIsNotAnError) {
  absl::StatusOr<std::optional<Checkpoint>> latest =
      FindLatestCheckpoint(FreshRoot("none"));
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_FALSE(latest->has_value());
}

TEST(CheckpointStoreTest, FindsTheNewestAndItsState) {
  const std::string root = FreshRoot("newest");
  WriteCheckpoint(root, 1, "one");
  WriteCheckpoint(root, 2, "two");
  absl::StatusOr<std::optional<Checkpoint>> latest = FindLatestCheckpoint(root);
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->sequence, 2);
  EXPECT_EQ((*latest)->state["round"], 2);
  EXPECT_EQ(*ReadFile((*latest)->PathOf("a.bin")), "two");
}

TEST(CheckpointStoreTest, AnUncommittedFolderIsIgnoredAndPruned) {
  const std::string root = FreshRoot("uncommitted");
  WriteCheckpoint(root, 1, "one");
  absl::StatusOr<CheckpointWriter> crashed = CheckpointWriter::Begin(root, 2);
  ASSERT_TRUE(crashed.ok());
  ASSERT_TRUE(WriteFileAtomically(crashed->PathOf("a.bin"), "half").ok());
  // No Commit: as if the writer was killed here.
  absl::StatusOr<std::optional<Checkpoint>> latest = FindLatestCheckpoint(root);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ((*latest)->sequence, 1);
  ASSERT_TRUE(PruneCheckpoints(root, 5).ok());
  EXPECT_FALSE(fs::exists(root + "/ckpt-00000002.tmp"));
  EXPECT_TRUE(fs::exists(root + "/ckpt-00000001"));
}

TEST(CheckpointStoreTest, PruneKeepsTheNewest) {
  const std::string root = FreshRoot("prune");
  for (int i = 1; i <= 4; ++i) WriteCheckpoint(root, i, "x");
  ASSERT_TRUE(PruneCheckpoints(root, 2).ok());
  EXPECT_FALSE(fs::exists(root + "/ckpt-00000001"));
  EXPECT_FALSE(fs::exists(root + "/ckpt-00000002"));
  EXPECT_TRUE(fs::exists(root + "/ckpt-00000003"));
  EXPECT_TRUE(fs::exists(root + "/ckpt-00000004"));
}

TEST(CheckpointStoreTest, AlteredFileIsDataLossNamingIt) {
  const std::string root = FreshRoot("altered");
  WriteCheckpoint(root, 1, "original");
  ASSERT_TRUE(
      WriteFileAtomically(root + "/ckpt-00000001/a.bin", "origiNal").ok());
  absl::StatusOr<std::optional<Checkpoint>> latest = FindLatestCheckpoint(root);
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(latest.status().message().find("ckpt-00000001/a.bin is corrupt"),
            std::string::npos)
      << latest.status();
}

TEST(CheckpointStoreTest, TruncatedFileIsDataLossWithBothSizes) {
  const std::string root = FreshRoot("truncated");
  WriteCheckpoint(root, 1, "original");
  fs::resize_file(root + "/ckpt-00000001/a.bin", 3);
  absl::StatusOr<std::optional<Checkpoint>> latest = FindLatestCheckpoint(root);
  ASSERT_FALSE(latest.ok());
  EXPECT_NE(latest.status().message().find("3 bytes, the manifest says 8"),
            std::string::npos)
      << latest.status();
}

TEST(CheckpointStoreTest, TheNewestBeingBadDoesNotFallBackSilently) {
  const std::string root = FreshRoot("no_fallback");
  WriteCheckpoint(root, 1, "good");
  WriteCheckpoint(root, 2, "good too");
  fs::remove(root + "/ckpt-00000002/b.txt");
  absl::StatusOr<std::optional<Checkpoint>> latest = FindLatestCheckpoint(root);
  ASSERT_FALSE(latest.ok());
  EXPECT_NE(latest.status().message().find("b.txt is missing"),
            std::string::npos)
      << latest.status();
}

TEST(CheckpointStoreTest, GarbledManifestIsDataLoss) {
  const std::string root = FreshRoot("manifest");
  WriteCheckpoint(root, 1, "x");
  ASSERT_TRUE(
      WriteFileAtomically(root + "/ckpt-00000001/manifest.json", "{\"fo").ok());
  absl::StatusOr<std::optional<Checkpoint>> latest = FindLatestCheckpoint(root);
  ASSERT_FALSE(latest.ok());
  EXPECT_NE(latest.status().message().find("manifest.json is not valid JSON"),
            std::string::npos)
      << latest.status();
}

}  // namespace
}  // namespace metarm
