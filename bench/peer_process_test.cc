#include "bench/peer_process.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(PeerProcessTest, RepliesLineByLineInOrder) {
  absl::StatusOr<std::unique_ptr<PeerProcess>> peer = PeerProcess::Start(
      {"/bin/sh", "-c", "while read line; do echo \"got $line\"; done"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  for (const std::string request : {"metarm_step 128", "ppo_update 512"}) {
    absl::StatusOr<std::string> reply = (*peer)->Ask(request);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(*reply, "got " + request);
  }
}

TEST(PeerProcessTest, ARepliesSplitAcrossWritesIsOneLine) {
  absl::StatusOr<std::unique_ptr<PeerProcess>> peer = PeerProcess::Start(
      {"/bin/sh", "-c", "read line; printf 0.; sleep 0.2; echo 25; read x"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  absl::StatusOr<std::string> reply = (*peer)->Ask("vanilla_rm_step 32");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "0.25");
}

TEST(PeerProcessTest, APeerThatExitsIsAnErrorNamingTheRequest) {
  absl::StatusOr<std::unique_ptr<PeerProcess>> peer =
      PeerProcess::Start({"/bin/sh", "-c", "read line; exit 3"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  absl::StatusOr<std::string> reply = (*peer)->Ask("generation 128");
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("generation 128"), std::string::npos)
      << reply.status();
  // Writing to it now fails instead of killing the test with SIGPIPE.
  EXPECT_FALSE((*peer)->Ask("generation 512").ok());
}

TEST(PeerProcessTest, AProgramThatCannotRunIsAnError) {
  EXPECT_FALSE(PeerProcess::Start({"/nonexistent/python3"}).ok());
}

}  // namespace
}  // namespace metarm
