#include "tasks/prompt_data.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "tasks/chat_format.h"
#include "tasks/chat_tokenizer.h"
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

TEST(ChatFormatTest, EachTemplateWrittenOut) {
  const std::vector<ChatMessage> messages = {{"system", "Be brief."},
                                             {"user", "Hi"},
                                             {"assistant", "Hello"},
                                             {"user", "Bye"}};
  EXPECT_EQ(FormatPrompt(ChatFormat::kHh, messages),
            "Be brief.\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: "
            "Bye\n\nAssistant:");
  EXPECT_EQ(FormatPrompt(ChatFormat::kPlain, messages),
            "Be brief.\nHi\nHello\nBye\n");
  EXPECT_EQ(FormatPrompt(ChatFormat::kChatMl, messages),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi"
            "<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n"
            "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(FormatPrompt(ChatFormat::kLlama3, {{"user", "Hi"}}),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(FormatResponse(ChatFormat::kHh, "Hello"), " Hello");
  EXPECT_EQ(FormatResponse(ChatFormat::kChatMl, "Hello"), "Hello");
  EXPECT_EQ(EndOfTurnMarker(ChatFormat::kHh), "");
  EXPECT_EQ(EndOfTurnMarker(ChatFormat::kLlama3), "<|eot_id|>");
}

TEST(ReadPromptsTest, TextAndMessagesLines) {
  ByteTokenizer tokenizer;
  const std::string path =
      TempFile("prompts.jsonl",
               R"({"prompt": "\n\nHuman: hi\n\nAssistant:"})"
               "\n\n"
               R"({"messages": [{"role": "user", "content": "sort dcba"}]})"
               "\n");
  absl::StatusOr<PromptSet> set =
      ReadPrompts(path, PromptFitter(ChatFormat::kHh, tokenizer, 64));
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->prompts.size(), 2u);
  EXPECT_EQ(set->prompts[0], "\n\nHuman: hi\n\nAssistant:");
  EXPECT_EQ(set->prompts[1], "\n\nHuman: sort dcba\n\nAssistant:");
  EXPECT_EQ(set->counts.read, 2);
  EXPECT_EQ(set->counts.dropped, 0);
}

// The fit rule: oldest turns go first, a leading system message stays; a
// prompt whose last user turn cannot fit, and a text prompt too long, are
// dropped; all of it counted.
TEST(ReadPromptsTest, FitRuleShortensThenDrops) {
  ByteTokenizer tokenizer;
  const PromptFitter fitter(ChatFormat::kPlain, tokenizer, 12);
  bool shortened = false;
  std::optional<std::string> fitted =
      fitter.FitMessages({{"system", "S"},
                          {"user", "first"},
                          {"assistant", "answer"},
                          {"user", "second"}},
                         &shortened);
  ASSERT_TRUE(fitted.has_value());
  EXPECT_EQ(*fitted, "S\nsecond\n");  // 9 bytes; with "first" 15
  EXPECT_TRUE(shortened);
  EXPECT_FALSE(
      fitter.FitMessages({{"user", "a very long question"}}, &shortened)
          .has_value());
  EXPECT_FALSE(fitter.FitText("thirteen byte").has_value());
  EXPECT_EQ(*fitter.FitText("twelve bytes"), "twelve bytes");

  const std::string path = TempFile(
      "fit.jsonl",
      R"({"messages": [{"role": "user", "content": "old turn"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "new"}]})"
      "\n"
      R"({"prompt": "far too long a prompt"})"
      "\n"
      R"({"prompt": "short"})"
      "\n");
  absl::StatusOr<PromptSet> set = ReadPrompts(path, fitter);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->prompts, (std::vector<std::string>{"new\n", "short"}));
  EXPECT_EQ(set->counts.read, 3);
  EXPECT_EQ(set->counts.shortened, 1);
  EXPECT_EQ(set->counts.dropped, 1);
}

std::string PromptsError(const std::string& contents) {
  ByteTokenizer tokenizer;
  const std::string path = TempFile("bad_prompts.jsonl", contents);
  absl::StatusOr<PromptSet> set =
      ReadPrompts(path, PromptFitter(ChatFormat::kHh, tokenizer, 16));
  EXPECT_FALSE(set.ok());
  return set.ok() ? "" : std::string(set.status().message());
}

TEST(ReadPromptsTest, BadInputNamesFileLineAndReason) {
  EXPECT_NE(PromptsError("{\"prompt\": \"ok\"}\n{\"prompt\": \"  \"}\n")
                .find("bad_prompts.jsonl:2: field \"prompt\": empty prompt"),
            std::string::npos);
  EXPECT_NE(PromptsError(R"({"messages": [{"role": "robot", "content": "x"}]})")
                .find(":1: messages[0]: unknown role \"robot\""),
            std::string::npos);
  EXPECT_NE(
      PromptsError(
          R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})")
          .find("the last message must be the user's"),
      std::string::npos);
  EXPECT_NE(PromptsError(R"({"messages": []})").find("non-empty array"),
            std::string::npos);
  EXPECT_NE(PromptsError(R"({"text": "x"})")
                .find("expected a field \"prompt\" or \"messages\""),
            std::string::npos);
  // No prompt can fit: the HH cue alone takes 13 of the 16 tokens.
  EXPECT_NE(
      PromptsError(R"({"messages": [{"role": "user", "content": "hello"}]})")
          .find("none of its 1 prompts fits task.max_prompt_tokens = 16 "
                "tokens with task.chat_template HH"),
      std::string::npos);
}

TEST(ReadDemonstrationsTest, PromptResponseAndMessages) {
  const std::string path = TempFile(
      "sft.jsonl",
      R"({"prompt": "Q:", "response": " A"})"
      "\n"
      R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})"
      "\n");
  absl::StatusOr<std::vector<Demonstration>> demos =
      ReadDemonstrations(path, ChatFormat::kHh);
  ASSERT_TRUE(demos.ok()) << demos.status();
  ASSERT_EQ(demos->size(), 2u);
  EXPECT_EQ((*demos)[0].prompt, "Q:");
  EXPECT_EQ((*demos)[1].prompt, "\n\nHuman: hi\n\nAssistant:");
  EXPECT_EQ((*demos)[1].response, " hello");
  const std::string bad = TempFile(
      "bad_sft.jsonl", R"({"messages": [{"role": "user", "content": "hi"}]})"
                       "\n");
  absl::StatusOr<std::vector<Demonstration>> refused =
      ReadDemonstrations(bad, ChatFormat::kHh);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(
                "bad_sft.jsonl:1: field \"messages\": the last message must "
                "be the assistant's"),
            std::string::npos);
}

TEST(ChatTokenizerTest, ByteTokenizerEndsWithItsOwnEndToken) {
  // The byte tokenizer has no <|im_end|> token: CHATML is refused.
  absl::StatusOr<std::unique_ptr<ChatTokenizer>> byte_chatml =
      ChatTokenizer::Make(std::make_unique<ByteTokenizer>(),
                          ChatFormat::kChatMl, "byte");
  ASSERT_FALSE(byte_chatml.ok());
  EXPECT_NE(byte_chatml.status().message().find(
                "byte: task.chat_template CHATML ends a reply with "
                "<|im_end|>, which this tokenizer reads as 10 tokens"),
            std::string::npos);
  // HH keeps the byte tokenizer's own end token.
  absl::StatusOr<std::unique_ptr<ChatTokenizer>> byte_hh = ChatTokenizer::Make(
      std::make_unique<ByteTokenizer>(), ChatFormat::kHh, "byte");
  ASSERT_TRUE(byte_hh.ok()) << byte_hh.status();
  EXPECT_EQ((*byte_hh)->eos_id(), ByteTokenizer::kEos);
  EXPECT_TRUE((*byte_hh)->stop_ids().empty());

  // A tokenizer.json's end of turn: //tasks:bpe_tokenizer_test.
}

}  // namespace
}  // namespace metarm
