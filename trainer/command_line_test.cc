#include "trainer/command_line.h"

#include <vector>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, test_path, "", "a string flag");
ABSL_FLAG(int, test_count, 3, "an int flag");
ABSL_FLAG(bool, test_switch, false, "a bool flag");

namespace metarm {
namespace {

std::vector<std::string> Check(std::vector<std::string> args) {
  std::vector<char*> argv;
  static char program[] = "prog";
  argv.push_back(program);
  for (std::string& a : args) argv.push_back(a.data());
  return CheckCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST(CheckCommandLineTest, AcceptsKnownFlagsInEveryForm) {
  EXPECT_TRUE(Check({"--test_path=x", "--test_count", "5", "--test_switch",
                     "--notest_switch", "-test_count=2"})
                  .empty());
}

TEST(CheckCommandLineTest, UnknownFlagIsNamed) {
  std::vector<std::string> problems = Check({"--jobb=x.pbtxt"});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "flag --jobb: unknown flag");
}

TEST(CheckCommandLineTest, BadValueIsNamedAndTheFlagKeepsItsValue) {
  std::vector<std::string> problems = Check({"--test_count=many"});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("flag --test_count: ", 0), 0u) << problems[0];
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 3);
}

TEST(CheckCommandLineTest, MissingValueAndStrayArgument) {
  std::vector<std::string> problems = Check({"stray", "--test_path"});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "unexpected argument 'stray'");
  EXPECT_EQ(problems[1], "flag --test_path: missing value");
}

}  // namespace
}  // namespace metarm
