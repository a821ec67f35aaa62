#include "util/excerpt.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(ExcerptTest, ShortTextIsKept) { EXPECT_EQ(Excerpt("abc", 3), "abc"); }

TEST(ExcerptTest, LongTextIsCutWithTheRestCounted) {
  EXPECT_EQ(Excerpt(std::string(1000, 'x'), 10),
            std::string(10, 'x') + "… (990 more bytes)");
}

TEST(ExcerptTest, ACharacterIsNotSplit) {
  // "é" is two bytes (C3 A9); a cut after 2 bytes would split the second.
  EXPECT_EQ(Excerpt("aéé", 2), "a… (4 more bytes)");
}

}  // namespace
}  // namespace metarm
