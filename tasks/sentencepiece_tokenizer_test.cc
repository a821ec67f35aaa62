// A SentencePiece model trained here on the HH-RLHF slice.
#include "tasks/sentencepiece_tokenizer.h"

#include <stdlib.h>

#include <iostream>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tasks/tokenizer_factory.h"
#include "util/file.h"
#include "util/gzip_file.h"

namespace metarm {
namespace {

std::vector<std::string> HhRlhfTexts() {
  // The repository's HH-RLHF slice, a data dependency of this test.
  absl::StatusOr<std::string> text =
      ReadMaybeGzipped("data/hh-rlhf/harmless-base-test.jsonl.gz");
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<std::string> texts;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (!line.empty()) texts.push_back(nlohmann::json::parse(line)["chosen"]);
  }
  return texts;
}

// Trained once for the suite: 600 BPE pieces with byte fallback, so that
// any text round-trips; no normalisation.
const std::string& ModelPath() {
  static const std::string* path = [] {
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string dir = std::string(tmp ? tmp : "/tmp");
    std::string corpus;
    for (const std::string& text : HhRlhfTexts()) {
      for (absl::string_view line : absl::StrSplit(text, '\n')) {
        if (!line.empty()) absl::StrAppend(&corpus, line, "\n");
      }
    }
    EXPECT_TRUE(WriteFileAtomically(dir + "/hh.txt", corpus).ok());
    absl::Status trained = TrainSentencePiece(
        dir + "/hh.txt", dir + "/hh",
        "--vocab_size=600 --model_type=bpe --byte_fallback=true "
        "--normalization_rule_name=identity --remove_extra_whitespaces=false "
        "--unk_id=0 --bos_id=1 --eos_id=2 --pad_id=3 --minloglevel=2 "
        "--num_threads=2");
    EXPECT_TRUE(trained.ok()) << trained;
    // Written to std::cerr by this program itself, as metarm_train writes
    // its own lines: an executable built without position-independent code
    // then holds its own copy of std::cerr, and libsentencepiece, deep-bound
    // (sentencepiece_library.h), logs to libstdc++'s unconstructed original
    // and crashes (.bazelrc's --force_pic says more).
    std::cerr << "trained " << dir << "/hh.model\n";
    return new std::string(dir + "/hh.model");
  }();
  return *path;
}

TEST(SentencePieceTokenizerTest, LoadsTheTrainedModel) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer(ModelPath());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->vocab_size(), 600);
  EXPECT_EQ((*t)->bos_id(), 1);
  EXPECT_EQ((*t)->eos_id(), 2);
  EXPECT_EQ((*t)->pad_id(), 3);
}

TEST(SentencePieceTokenizerTest, FrequentWordsAreSinglePieces) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer(ModelPath());
  ASSERT_TRUE(t.ok());
  // Every dialogue has these turns: each word is one piece ("▁Human").
  for (const char* word : {"Human", "Assistant"}) {
    TokenSequence ids = (*t)->Encode(word);
    EXPECT_EQ(ids.size(), 1u) << word;
    EXPECT_EQ((*t)->Decode(ids), word);
  }
  // bos/eos/pad are dropped by Decode.
  TokenSequence ids = (*t)->Encode("Human");
  ids.insert(ids.begin(), 1);
  ids.push_back(2);
  ids.push_back(3);
  EXPECT_EQ((*t)->Decode(ids), "Human");
}

TEST(SentencePieceTokenizerTest, HhRlhfTextRoundTrips) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer(ModelPath());
  ASSERT_TRUE(t.ok());
  int checked = 0;
  for (const std::string& text : HhRlhfTexts()) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (line.empty()) continue;
      // SentencePiece treats a leading space as the word boundary marker.
      if (line.front() == ' ') continue;
      const std::string s(line);
      ASSERT_EQ((*t)->Decode((*t)->Encode(s)), s);
      ++checked;
    }
  }
  EXPECT_GT(checked, 5000);
  // Text the model never saw still round-trips, through byte pieces.
  const std::string unseen = "\xF0\x9F\x99\x82 \xE6\xBC\xA2\xE5\xAD\x97";
  EXPECT_EQ((*t)->Decode((*t)->Encode(unseen)), unseen);
}

TEST(SentencePieceTokenizerTest, NotAModelIsRefusedNamingTheFile) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/bad.model";
  ASSERT_TRUE(WriteFileAtomically(path, "not a model").ok());
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer(path);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("bad.model: not a SentencePiece model"),
            std::string::npos)
      << t.status();
}

}  // namespace
}  // namespace metarm
