#include "tasks/letter_tasks.h"

#include "gtest/gtest.h"

namespace metarm {
namespace {

TEST(LetterGoldRewardTest, GradedPartialCredit) {
  EXPECT_DOUBLE_EQ(LetterGoldReward("abcd", "abcd"), 1.0);
  EXPECT_DOUBLE_EQ(LetterGoldReward("abcd", "abdc"), 0.5);  // two right
  // Right letters plus two extra: full match, length penalty 0.25 * 2 / 4.
  EXPECT_DOUBLE_EQ(LetterGoldReward("abcd", "abcdaa"), 1.0 - 0.125);
  // Too short: 2 of 4 match, 0.25 * 2 / 4 length.
  EXPECT_DOUBLE_EQ(LetterGoldReward("abcd", "ab"), 0.5 - 0.125);
  // Off-alphabet characters: half of them, times 0.5.
  EXPECT_DOUBLE_EQ(LetterGoldReward("abcd", "abzz"), 0.5 - 0.25);
  EXPECT_DOUBLE_EQ(LetterGoldReward("abc", std::string(200, 'z')), -1.0);
  EXPECT_DOUBLE_EQ(LetterGoldReward("", "abc"), -1.0);
}

TEST(SortTaskTest, PromptsAndIdealResponses) {
  SortTask task;
  EXPECT_EQ(task.IdealResponse("sort:dbca="), "abcd");
  EXPECT_DOUBLE_EQ(task.GoldReward("sort:dbca=", "abcd"), 1.0);
  EXPECT_EQ(task.IdealResponse("rev:dbca="), "");  // another task's prompt
  EXPECT_EQ(task.IdealResponse("sort:dbxa="), "");
  Rng rng(7);
  for (int i = 0; i < 100; ++i) {
    const std::string prompt = task.SamplePrompt(rng);
    const std::string ideal = task.IdealResponse(prompt);
    ASSERT_FALSE(ideal.empty()) << prompt;
    EXPECT_GE(ideal.size(), 3u);
    EXPECT_LE(ideal.size(), 8u);
    EXPECT_TRUE(std::is_sorted(ideal.begin(), ideal.end()));
  }
}

TEST(ReverseTaskTest, Reverses) {
  ReverseTask task;
  EXPECT_EQ(task.IdealResponse("rev:dbca="), "acbd");
  EXPECT_DOUBLE_EQ(task.GoldReward("rev:abc=", "cba"), 1.0);
}

TEST(LetterTaskTest, SameSeedSameStream) {
  SortTask task;
  Rng a(3), b(3);
  for (int i = 0; i < 20; ++i) {
    const std::string prompt = task.SamplePrompt(a);
    ASSERT_EQ(prompt, task.SamplePrompt(b));
    ASSERT_EQ(task.Demonstration(prompt, a), task.Demonstration(prompt, b));
  }
}

// Demonstrations are decent but far from optimal: mean gold well above a
// random response and well below 1.
TEST(LetterTaskTest, DemonstrationsAreDecentNotOptimal) {
  for (const std::string name : {"sort", "reverse"}) {
    std::unique_ptr<Task> task = *MakeTask(name);
    Rng rng(11);
    double total = 0;
    int perfect = 0;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
      const std::string prompt = task->SamplePrompt(rng);
      const double gold =
          task->GoldReward(prompt, task->Demonstration(prompt, rng));
      total += gold;
      perfect += gold == 1.0;
    }
    EXPECT_GT(total / n, 0.5) << name;
    EXPECT_LT(total / n, 0.85) << name;
    EXPECT_GT(perfect, n / 4) << name;
    EXPECT_LT(perfect, n / 2) << name;
  }
}

TEST(MakeTaskTest, UnknownNameListsTheTasks) {
  absl::StatusOr<std::unique_ptr<Task>> task = MakeTask("chess");
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().message(),
            "unknown task \"chess\", one of: sort, reverse");
}

}  // namespace
}  // namespace metarm
