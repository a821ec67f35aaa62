#include "tasks/bpe_tokenizer.h"

#include <stdlib.h>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tasks/chat_tokenizer.h"
#include "tasks/tokenizer_factory.h"
#include "util/file.h"
#include "util/gzip_file.h"

namespace metarm {
namespace {

using Json = nlohmann::json;

std::string Utf8(uint32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

// GPT-2's byte alphabet, written out again from its definition: printable
// bytes are themselves, the 68 others are U+0100 onwards in byte order.
std::string ByteToken(int b) {
  const bool printable =
      (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  if (printable) return Utf8(b);
  int index = 0;
  for (int x = 0; x < b; ++x) {
    const bool p = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) ||
                   (x >= 174 && x <= 255);
    if (!p) ++index;
  }
  return Utf8(256 + index);
}

// Byte b is token b; merged tokens from 256; <|endoftext|> is 300.
Json Vocab() {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteToken(b)] = b;
  const char* merged[] = {"th",
                          "the",
                          "\xC4\xA0"
                          "c",
                          "\xC4\xA0"
                          "ca",
                          "\xC4\xA0"
                          "cat",
                          "ab"};
  for (int i = 0; i < 6; ++i) vocab[merged[i]] = 256 + i;
  vocab["<|endoftext|>"] = 300;
  return vocab;
}

const char kMerges[] =
    "#version: 0.2\nt h\nth e\n\xC4\xA0 c\n\xC4\xA0"
    "c a\n\xC4\xA0"
    "ca t\na b\nb c\n";

std::string Folder(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string folder = std::string(tmp ? tmp : "/tmp") + "/" + name;
  EXPECT_TRUE(MakeDirectories(folder).ok());
  return folder;
}

std::string VocabAndMergesFolder() {
  const std::string folder = Folder("gpt2_bpe");
  EXPECT_TRUE(WriteFileAtomically(folder + "/vocab.json", Vocab().dump()).ok());
  EXPECT_TRUE(WriteFileAtomically(folder + "/merges.txt", kMerges).ok());
  return folder;
}

std::unique_ptr<Tokenizer> Load(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer(path);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

TEST(BpeTokenizerTest, PreTokenizesLikeGpt2) {
  EXPECT_EQ(PreTokenize("Hello  world!! 123's\n"),
            (std::vector<std::string>{"Hello", " ", " world", "!!", " 123",
                                      "'s", "\n"}));
  // Letters of any script are letters (\p{L}).
  EXPECT_EQ(
      PreTokenize("caf\xC3\xA9 \xCE\xB1\xCE\xB2!"),
      (std::vector<std::string>{"caf\xC3\xA9", " \xCE\xB1\xCE\xB2", "!"}));
}

TEST(BpeTokenizerTest, KnownEncodings) {
  std::unique_ptr<Tokenizer> t = Load(VocabAndMergesFolder());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->vocab_size(), 301);
  // "the" merges t+h then th+e; " cat" is Ġ c a t merged to Ġcat.
  EXPECT_EQ(t->Encode("the cat"), (TokenSequence{257, 260}));
  // Merges apply by rank: "a b" (rank 5) before "b c" (rank 6).
  EXPECT_EQ(t->Encode("abc"), (TokenSequence{261, 'c'}));
  // Bytes without merges stay bytes; a space is Ġ (byte 32 = token 32).
  EXPECT_EQ(t->Encode("hi x"), (TokenSequence{'h', 'i', 32, 'x'}));
  // Special tokens in the text are matched whole.
  EXPECT_EQ(t->Encode("hi<|endoftext|>the"),
            (TokenSequence{'h', 'i', 300, 257}));
  EXPECT_EQ(t->bos_id(), 300);
  EXPECT_EQ(t->eos_id(), 300);
  EXPECT_EQ(t->pad_id(), 300);
  EXPECT_EQ(t->Decode({257, 300, 260}), "the cat");
}

TEST(BpeTokenizerTest, TokenizerJsonGivesTheSameEncodings) {
  const std::string folder = Folder("gpt2_tokenizer_json");
  Json vocab = Vocab();
  vocab.erase("<|endoftext|>");
  Json merges = Json::array();
  for (absl::string_view line : absl::StrSplit(kMerges, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> pair = absl::StrSplit(line, ' ');
    merges.push_back(pair);  // the newer [a, b] form
  }
  Json json = {
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}}},
      {"added_tokens",
       {{{"id", 300}, {"content", "<|endoftext|>"}, {"special", true}}}}};
  ASSERT_TRUE(
      WriteFileAtomically(folder + "/tokenizer.json", json.dump()).ok());
  std::unique_ptr<Tokenizer> from_json = Load(folder);
  std::unique_ptr<Tokenizer> from_files = Load(VocabAndMergesFolder());
  ASSERT_NE(from_json, nullptr);
  for (const char* text : {"the cat", "abc", "hi<|endoftext|>the", "x\n\ny"}) {
    EXPECT_EQ(from_json->Encode(text), from_files->Encode(text)) << text;
  }
}

// The repository's HH-RLHF slice, a data dependency of this test (runfiles
// paths are relative to the workspace root, the test's working folder).
std::string HhRlhfSlice() { return "data/hh-rlhf/harmless-base-test.jsonl.gz"; }

TEST(BpeTokenizerTest, EveryHhRlhfLineRoundTrips) {
  std::unique_ptr<Tokenizer> t = Load(VocabAndMergesFolder());
  absl::StatusOr<std::string> text = ReadMaybeGzipped(HhRlhfSlice());
  ASSERT_TRUE(text.ok()) << text.status();
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.empty()) continue;
    const std::string chosen = Json::parse(line)["chosen"];
    ASSERT_EQ(t->Decode(t->Encode(chosen)), chosen) << "line " << lines + 1;
    ++lines;
  }
  EXPECT_EQ(lines, 2312);
}

TEST(BpeTokenizerTest, BadFilesAreRefusedNamingFileAndEntry) {
  const std::string folder = Folder("bad_bpe");
  Json vocab = Vocab();
  vocab.erase(ByteToken(32));
  ASSERT_TRUE(WriteFileAtomically(folder + "/vocab.json", vocab.dump()).ok());
  ASSERT_TRUE(WriteFileAtomically(folder + "/merges.txt", kMerges).ok());
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer(folder);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("vocab.json: the vocabulary lacks the "
                                      "byte token \"\xC4\xA0\" (byte 32)"),
            std::string::npos)
      << t.status();
  ASSERT_TRUE(WriteFileAtomically(folder + "/vocab.json", Vocab().dump()).ok());
  ASSERT_TRUE(
      WriteFileAtomically(folder + "/merges.txt", "#version: 0.2\nt h\nthe\n")
          .ok());
  t = MakeTokenizer(folder);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(
                "merges.txt:3: expected two tokens separated by one space"),
            std::string::npos)
      << t.status();
  const std::string wordpiece = Folder("wordpiece") + "/tokenizer.json";
  ASSERT_TRUE(WriteFileAtomically(
                  wordpiece, R"({"model": {"type": "WordPiece", "vocab": {}}})")
                  .ok());
  t = MakeTokenizer(wordpiece);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("model must be {\"type\": \"BPE\""),
            std::string::npos);
  t = MakeTokenizer("/nonexistent/tok");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("tokenizer \"/nonexistent/tok\": not "
                                      "\"byte\", and no such path"),
            std::string::npos)
      << t.status();
}

// A tokenizer.json with ChatML's special tokens: <|im_end|> ends a reply
// and <|endoftext|> (its eos_token) stops generation too.
TEST(BpeTokenizerTest, ChatMlEndOfTurnIsASpecialToken) {
  const std::string folder = Folder("chatml_tokenizer_json");
  Json vocab = Vocab();
  vocab.erase("<|endoftext|>");
  Json json = {
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", Json::array()}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}}},
      {"added_tokens",
       {{{"id", 300}, {"content", "<|endoftext|>"}, {"special", true}},
        {{"id", 301}, {"content", "<|im_start|>"}, {"special", true}},
        {{"id", 302}, {"content", "<|im_end|>"}, {"special", true}}}}};
  ASSERT_TRUE(
      WriteFileAtomically(folder + "/tokenizer.json", json.dump()).ok());
  absl::StatusOr<std::unique_ptr<ChatTokenizer>> chatml =
      ChatTokenizer::Make(Load(folder), ChatFormat::kChatMl, folder);
  ASSERT_TRUE(chatml.ok()) << chatml.status();
  EXPECT_EQ((*chatml)->eos_id(), 302);
  EXPECT_EQ((*chatml)->stop_ids(), (std::vector<int64_t>{300}));
  EXPECT_EQ((*chatml)->Encode("<|im_start|>ab<|im_end|>"),
            (TokenSequence{301, 'a', 'b', 302}));
}

// Llama 3's and Qwen2's tokenizer.json (their own Split patterns, special
// tokens, Llama 3's ignore_merges) against encodings by an independent BPE in
// Python (tasks/testdata/make_bpe_tokenizers.py, the `regex` module for the
// patterns).
TEST(BpeTokenizerTest, Llama3AndQwen2MatchThePythonReference) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp ? tmp : "/tmp") + "/bpe_reference";
  const std::string command =
      "/usr/bin/python3 tasks/testdata/make_bpe_tokenizers.py " + dir;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  absl::StatusOr<std::string> expected_text = ReadFile(dir + "/expected.json");
  ASSERT_TRUE(expected_text.ok()) << expected_text.status();
  const Json expected = Json::parse(*expected_text);
  for (const char* kind : {"llama3", "qwen2"}) {
    std::unique_ptr<Tokenizer> tokenizer = Load(dir + "/" + kind);
    ASSERT_NE(tokenizer, nullptr) << kind;
    int checked = 0;
    for (const Json& item : expected[kind]) {
      const std::string text = item[0].get<std::string>();
      EXPECT_EQ(tokenizer->Encode(text), item[1].get<TokenSequence>())
          << kind << ": " << Json(text).dump();
      ++checked;
    }
    EXPECT_GE(checked, 10) << kind;
  }
  // Their end tokens, from tokenizer_config.json, end a reply under their
  // chat templates.
  absl::StatusOr<std::unique_ptr<ChatTokenizer>> llama3 = ChatTokenizer::Make(
      Load(dir + "/llama3"), ChatFormat::kLlama3, dir + "/llama3");
  ASSERT_TRUE(llama3.ok()) << llama3.status();
  EXPECT_EQ((*llama3)->eos_id(), (*llama3)->Encode("<|eot_id|>")[0]);
  EXPECT_EQ((*llama3)->bos_id(), (*llama3)->Encode("<|begin_of_text|>")[0]);
  absl::StatusOr<std::unique_ptr<ChatTokenizer>> qwen2 = ChatTokenizer::Make(
      Load(dir + "/qwen2"), ChatFormat::kChatMl, dir + "/qwen2");
  ASSERT_TRUE(qwen2.ok()) << qwen2.status();
  EXPECT_EQ((*qwen2)->eos_id(), (*qwen2)->Encode("<|im_end|>")[0]);
}

TEST(BpeTokenizerTest, UnsupportedPreTokenizerIsRefused) {
  const std::string folder = Folder("metaspace");
  Json json = {
      {"model",
       {{"type", "BPE"}, {"vocab", Vocab()}, {"merges", Json::array()}}},
      {"pre_tokenizer", {{"type", "Metaspace"}}}};
  ASSERT_TRUE(
      WriteFileAtomically(folder + "/tokenizer.json", json.dump()).ok());
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer(folder);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("pre_tokenizer must be ByteLevel"),
            std::string::npos)
      << t.status();
}

}  // namespace
}  // namespace metarm
