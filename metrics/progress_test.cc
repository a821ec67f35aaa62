#include "metrics/progress.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(ParseProgressStyleTest, NamedStyles) {
  EXPECT_EQ(*ParseProgressStyle("updating"), ProgressStyle::kUpdating);
  EXPECT_EQ(*ParseProgressStyle("plain"), ProgressStyle::kPlain);
}

TEST(ParseProgressStyleTest, AutoIsPlainWhenNotATerminal) {
  // Under bazel test, stdout is a file.
  EXPECT_EQ(*ParseProgressStyle("auto"), ProgressStyle::kPlain);
}

TEST(ParseProgressStyleTest, RejectsOtherValuesNamingTheFlag) {
  absl::StatusOr<ProgressStyle> style = ParseProgressStyle("fancy");
  ASSERT_FALSE(style.ok());
  EXPECT_NE(style.status().message().find("--progress"), std::string::npos);
  EXPECT_NE(style.status().message().find("fancy"), std::string::npos);
}

std::string Captured(ProgressStyle style) {
  testing::internal::CaptureStdout();
  {
    ProgressLine line(style);
    line.Show("a long first line");
    line.Show("second");
  }
  return testing::internal::GetCapturedStdout();
}

TEST(ProgressLineTest, PlainStyleWritesWholeLines) {
  EXPECT_EQ(Captured(ProgressStyle::kPlain), "a long first line\nsecond\n");
}

TEST(ProgressLineTest, UpdatingStyleRewritesOneLineAndEndsIt) {
  EXPECT_EQ(Captured(ProgressStyle::kUpdating),
            "\ra long first line   \rsecond   \n");
}

}  // namespace
}  // namespace metarm
