#include "tasks/preference_data.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "util/file.h"

namespace metarm {
namespace {

std::string TempFile(const std::string& name, const std::string& contents) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  EXPECT_TRUE(WriteFileAtomically(path, contents).ok());
  return path;
}

// The error of reading `contents` as preference pairs.
std::string PairsError(const std::string& contents) {
  const std::string path = TempFile("bad.jsonl", contents);
  ByteTokenizer tokenizer;
  absl::StatusOr<std::vector<PreferencePair>> pairs =
      ReadPreferencePairs(path, tokenizer);
  EXPECT_FALSE(pairs.ok());
  return pairs.ok() ? "" : std::string(pairs.status().message());
}

TEST(ReadPreferencePairsTest, PromptChosenRejectedStrings) {
  ByteTokenizer tokenizer;
  const std::string path = TempFile(
      "good.jsonl",
      "{\"prompt\": \"Q\", \"chosen\": \"yes\", \"rejected\": \"no\"}\n\n"
      "{\"prompt\": [5, 6], \"chosen\": [7], \"rejected\": [8, 9]}\n");
  absl::StatusOr<std::vector<PreferencePair>> pairs =
      ReadPreferencePairs(path, tokenizer);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  ASSERT_EQ(pairs->size(), 2u);
  EXPECT_EQ(tokenizer.Decode((*pairs)[0].chosen), "yes");
  EXPECT_EQ((*pairs)[0].prompt, tokenizer.Encode("Q"));
  EXPECT_EQ((*pairs)[1].rejected, (TokenSequence{8, 9}));
}

TEST(ReadPreferencePairsTest, WholeDialoguesSplitAtTheLastSharedTurn) {
  ByteTokenizer tokenizer;
  const std::string path = TempFile(
      "hh.jsonl",
      R"({"chosen": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: bye\n\nAssistant: Goodbye!", )"
      R"("rejected": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: bye\n\nAssistant: Go away."})"
      "\n");
  absl::StatusOr<std::vector<PreferencePair>> pairs =
      ReadPreferencePairs(path, tokenizer);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  EXPECT_EQ(tokenizer.Decode((*pairs)[0].prompt),
            "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: bye\n\nAssistant:");
  EXPECT_EQ(tokenizer.Decode((*pairs)[0].chosen), " Goodbye!");
  EXPECT_EQ(tokenizer.Decode((*pairs)[0].rejected), " Go away.");
}

TEST(ReadPreferencePairsTest, BadInputNamesFileLineAndReason) {
  EXPECT_NE(PairsError("{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": "
                       "\"c\"}\n{\"prompt\": \"a\", \"chosen\": \"b\"}\n")
                .find("bad.jsonl:2: missing field \"rejected\""),
            std::string::npos);
  EXPECT_NE(
      PairsError("{\"prompt\": \"a\", \"chosen\": 3, \"rejected\": \"c\"}")
          .find("bad.jsonl:1: field \"chosen\": expected a string or an "
                "array of token ids, got number"),
      std::string::npos);
  EXPECT_NE(
      PairsError("{\"prompt\": \"a\", \"chosen\": \"\", \"rejected\": \"c\"}")
          .find("bad.jsonl:1: field \"chosen\": empty response"),
      std::string::npos);
  EXPECT_NE(
      PairsError("{\"prompt\": \"a\", \"chosen\": [3, 400], \"rejected\": [4]}")
          .find("bad.jsonl:1: field \"chosen\"[1]: token id 400 is "
                "outside the vocabulary [0, 259)"),
      std::string::npos);
  EXPECT_NE(PairsError("{\"prompt\": \"a\", \"chosen\": \"\xff\xfe\", "
                       "\"rejected\": \"c\"}\n")
                .find("bad.jsonl:1: invalid JSON"),
            std::string::npos);
  EXPECT_NE(PairsError("").find("bad.jsonl: no records"), std::string::npos);
  // A number too large for a double (the fuzzer's find): an error, not a
  // crash.
  EXPECT_NE(PairsError("1111e111111111111111111111111111111111111111111")
                .find("bad.jsonl:1: invalid JSON"),
            std::string::npos);
  // A file cut in the middle of its last line.
  EXPECT_NE(PairsError("{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": "
                       "\"c\"}\n{\"prompt\": \"a\", \"cho")
                .find("bad.jsonl:2: invalid JSON"),
            std::string::npos);
  EXPECT_NE(
      PairsError("[1, 2]").find("bad.jsonl:1: expected a JSON object, got "
                                "array"),
      std::string::npos);
  EXPECT_NE(PairsError("{\"chosen\": \"\\n\\nHuman: a\", \"rejected\": \"b\"}")
                .find("share no"),
            std::string::npos);
  EXPECT_NE(PairsError("{\"chosen\": \"\\n\\nHuman: a\\n\\nAssistant:\", "
                       "\"rejected\": \"\\n\\nHuman: a\\n\\nAssistant: b\"}")
                .find("bad.jsonl:1: field \"chosen\": empty response after the "
                      "prompt"),
            std::string::npos);
}

// A huge bad line is quoted as an excerpt, not whole.
TEST(ReadPreferencePairsTest, AHugeBadLineGivesAShortMessage) {
  const std::string huge(5 << 20, 'x');  // 5 MB in an unterminated string
  const std::string error =
      PairsError("{\"prompt\": \"a\", \"chosen\": \"" + huge);
  EXPECT_NE(error.find("bad.jsonl:1: invalid JSON"), std::string::npos)
      << error.size();
  EXPECT_LT(error.size(), 1000u);
  EXPECT_NE(error.find("more bytes)"), std::string::npos);
}

TEST(ReadResponseSetsTest, ExactlyKResponses) {
  ByteTokenizer tokenizer;
  const std::string good =
      TempFile("meta.jsonl",
               "{\"prompt\": \"p\", \"responses\": [\"a\", [5, 6], \"c\"]}\n");
  absl::StatusOr<std::vector<ResponseSet>> sets =
      ReadResponseSets(good, tokenizer, 3);
  ASSERT_TRUE(sets.ok()) << sets.status();
  EXPECT_EQ((*sets)[0].responses[1], (TokenSequence{5, 6}));
  absl::StatusOr<std::vector<ResponseSet>> wrong_k =
      ReadResponseSets(good, tokenizer, 5);
  ASSERT_FALSE(wrong_k.ok());
  EXPECT_NE(wrong_k.status().message().find(
                "meta.jsonl:1: field \"responses\": expected 5 responses"),
            std::string::npos);
}

TEST(WritersTest, RoundTripThroughTheReaders) {
  ByteTokenizer tokenizer;
  PreferencePair pair{{3, 4}, {5}, {6, 7}};
  ResponseSet set{{8}, {{9}, {10, 11}}};
  const std::string pairs_path =
      TempFile("w_pairs.jsonl", PreferencePairToJsonLine(pair));
  const std::string sets_path =
      TempFile("w_sets.jsonl", ResponseSetToJsonLine(set));
  absl::StatusOr<std::vector<PreferencePair>> pairs =
      ReadPreferencePairs(pairs_path, tokenizer);
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ((*pairs)[0].rejected, pair.rejected);
  absl::StatusOr<std::vector<ResponseSet>> sets =
      ReadResponseSets(sets_path, tokenizer, 2);
  ASSERT_TRUE(sets.ok());
  EXPECT_EQ((*sets)[0].responses[1], set.responses[1]);
}

TEST(JoinPromptResponseTest, KeepsThePromptsEndAndTheResponsesStart) {
  ByteTokenizer tokenizer;
  TokenSequence joined =
      JoinPromptResponse({10, 11, 12, 13}, {20, 21, 22}, 2, 2, tokenizer);
  EXPECT_EQ(joined, (TokenSequence{1, 12, 13, 20, 21, 2}));
}

// The repository's real HH-RLHF slice (data/hh-rlhf), a data dependency of
// this test (runfiles paths are relative to the workspace root).
std::string HhRlhfSlicePath() {
  return "data/hh-rlhf/harmless-base-test.jsonl.gz";
}

TEST(HhRlhfSliceTest, ReadsEveryPair) {
  const std::string path = HhRlhfSlicePath();
  ASSERT_FALSE(path.empty()) << "cannot locate the repository";
  ByteTokenizer tokenizer;
  absl::StatusOr<std::vector<PreferencePair>> pairs =
      ReadPreferencePairs(path, tokenizer);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  EXPECT_EQ(pairs->size(), 2312u);
  const std::string suffix = "\n\nAssistant:";
  for (const PreferencePair& pair : *pairs) {
    const std::string prompt = tokenizer.Decode(pair.prompt);
    ASSERT_GE(prompt.size(), suffix.size());
    EXPECT_EQ(prompt.substr(prompt.size() - suffix.size()), suffix);
    EXPECT_FALSE(pair.chosen.empty());
    EXPECT_FALSE(pair.rejected.empty());
  }
}

}  // namespace
}  // namespace metarm
