// Chat templates: how a conversation becomes the text a model reads, and
// which token ends the assistant's reply (docs/datasets.md shows each one).
//
//   std::vector<ChatMessage> messages = {{"user", "Hi"}};
//   FormatPrompt(ChatFormat::kHh, messages);   // "\n\nHuman: Hi\n\nAssistant:"
//   FormatResponse(ChatFormat::kHh, "Hello");  // " Hello"
//   EndOfTurnMarker(ChatFormat::kChatMl);      // "<|im_end|>"
#ifndef METARM_TASKS_CHAT_FORMAT_H_
#define METARM_TASKS_CHAT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace metarm {

enum class ChatFormat {
  kHh,      // Anthropic's HH-RLHF dialogues
  kPlain,   // contents alone, one a line
  kChatMl,  // <|im_start|>role ... <|im_end|>
  kLlama3,  // <|start_header_id|>role<|end_header_id|> ... <|eot_id|>
};

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// "HH", "PLAIN", "CHATML", "LLAMA3" (the job field's names).
std::string ChatFormatName(ChatFormat format);

// The roles a message may have.
bool IsKnownRole(const std::string& role);

// The conversation followed by the assistant's cue: the text after which the
// model writes its reply. Each message's role must be known.
std::string FormatPrompt(ChatFormat format,
                         const std::vector<ChatMessage>& messages);

// The assistant's reply as it follows FormatPrompt's cue (HH puts a space
// after "Assistant:"), without its end token.
std::string FormatResponse(ChatFormat format, const std::string& content);

// The special token that ends a reply, or "" where the tokenizer's own end
// token does (HH, PLAIN).
std::string EndOfTurnMarker(ChatFormat format);

}  // namespace metarm

#endif  // METARM_TASKS_CHAT_FORMAT_H_
