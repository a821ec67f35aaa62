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

TEST(LetterRepetitionTest, RunsLongerThanTheIdealsPlusOne) {
  EXPECT_DOUBLE_EQ(LetterRepetition("abcd", "abcd"), 0.0);
  EXPECT_DOUBLE_EQ(LetterRepetition("abcd", "abbcd"), 0.0);  // one slip
  EXPECT_DOUBLE_EQ(LetterRepetition("abcd", "abbbcd"), 0.25);
  EXPECT_DOUBLE_EQ(LetterRepetition("abcd", "aaaa"), 0.5);
  EXPECT_DOUBLE_EQ(LetterRepetition("aabc", "aaab"), 0.0);  // ideal's run 2
  EXPECT_DOUBLE_EQ(LetterRepetition("aabc", "aaaaaaaa"), 5.0 / 4.0);
  EXPECT_DOUBLE_EQ(LetterRepetition("abc", ""), 0.0);
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
            "unknown task \"chess\", one of: sort, reverse, sort_ngram, "
            "reverse_ngram");
}

TEST(LetterGoldRewardTest, NgramMatchIsHalfLettersHalfBigrams) {
  const auto ngram = [](const std::string& ideal, const std::string& y) {
    return LetterGoldReward(ideal, y, LetterMatch::kNgram);
  };
  EXPECT_DOUBLE_EQ(ngram("abcd", "abcd"), 1.0);
  // Swapped neighbours: every letter right; bigrams of ^abdc$ against
  // ^abcd$ share ^a, ab: 2 of 5 each, F1 0.4.
  EXPECT_DOUBLE_EQ(ngram("abcd", "abdc"), 0.5 * 1.0 + 0.5 * 0.4);
  // A repeated letter: letters 2·4/(4+5); bigrams ^a ab bc cd d$ against
  // ^a aa ab bc cd d$: 2·5/(5+6); one letter too long, 0.25/4.
  EXPECT_DOUBLE_EQ(ngram("abcd", "aabcd"),
                   0.5 * 8.0 / 9.0 + 0.5 * 10.0 / 11.0 - 0.0625);
  // A run of one letter keeps little: letter F1 2/(4+4), and of the
  // bigrams only ^a: 2/(5+5).
  EXPECT_DOUBLE_EQ(ngram("abcd", "aaaa"), 0.5 * 0.25 + 0.5 * 0.2);
  // Off-alphabet characters count against precision and as foreign.
  EXPECT_DOUBLE_EQ(ngram("abcd", "abzz"), 0.5 * 0.5 + 0.5 * 0.4 - 0.25);
  EXPECT_DOUBLE_EQ(ngram("", "abc"), -1.0);
  // The position match of the same pairs differs: credit by place.
  EXPECT_DOUBLE_EQ(LetterGoldReward("abcd", "aabcd"), 0.25 - 0.0625);
}

TEST(MakeTaskTest, NgramTasksShareThePromptsAndIdealResponses) {
  for (const auto& [plain, ngram] :
       {std::make_pair("sort", "sort_ngram"),
        std::make_pair("reverse", "reverse_ngram")}) {
    std::unique_ptr<Task> a = *MakeTask(plain);
    std::unique_ptr<Task> b = *MakeTask(ngram);
    EXPECT_EQ(b->name(), ngram);
    Rng ra(4), rb(4);
    for (int i = 0; i < 20; ++i) {
      const std::string prompt = a->SamplePrompt(ra);
      ASSERT_EQ(prompt, b->SamplePrompt(rb));
      ASSERT_EQ(a->Demonstration(prompt, ra), b->Demonstration(prompt, rb));
    }
    const std::string prompt = a->SamplePrompt(ra);
    const std::string ideal =
        dynamic_cast<const LetterTask&>(*a).IdealResponse(prompt);
    EXPECT_DOUBLE_EQ(b->GoldReward(prompt, ideal), 1.0) << prompt;
  }
}

}  // namespace
}  // namespace metarm
