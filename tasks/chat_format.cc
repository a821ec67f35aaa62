#include "tasks/chat_format.h"

#include "absl/strings/str_cat.h"

namespace metarm {
namespace {

std::string FormatTurn(ChatFormat format, const ChatMessage& message) {
  switch (format) {
    case ChatFormat::kHh:
      // HH-RLHF has no system turn: a system message is plain leading text.
      if (message.role == "system") return message.content;
      return absl::StrCat(
          message.role == "user" ? "\n\nHuman: " : "\n\nAssistant: ",
          message.content);
    case ChatFormat::kPlain:
      return absl::StrCat(message.content, "\n");
    case ChatFormat::kChatMl:
      return absl::StrCat("<|im_start|>", message.role, "\n", message.content,
                          "<|im_end|>\n");
    case ChatFormat::kLlama3:
      return absl::StrCat("<|start_header_id|>", message.role,
                          "<|end_header_id|>\n\n", message.content,
                          "<|eot_id|>");
  }
  return "";
}

std::string AssistantCue(ChatFormat format) {
  switch (format) {
    case ChatFormat::kHh:
      return "\n\nAssistant:";
    case ChatFormat::kPlain:
      return "";
    case ChatFormat::kChatMl:
      return "<|im_start|>assistant\n";
    case ChatFormat::kLlama3:
      return "<|start_header_id|>assistant<|end_header_id|>\n\n";
  }
  return "";
}

}  // namespace

std::string ChatFormatName(ChatFormat format) {
  switch (format) {
    case ChatFormat::kHh:
      return "HH";
    case ChatFormat::kPlain:
      return "PLAIN";
    case ChatFormat::kChatMl:
      return "CHATML";
    case ChatFormat::kLlama3:
      return "LLAMA3";
  }
  return "";
}

bool IsKnownRole(const std::string& role) {
  return role == "system" || role == "user" || role == "assistant";
}

std::string FormatPrompt(ChatFormat format,
                         const std::vector<ChatMessage>& messages) {
  std::string text;
  for (const ChatMessage& message : messages) {
    absl::StrAppend(&text, FormatTurn(format, message));
  }
  return absl::StrCat(text, AssistantCue(format));
}

std::string FormatResponse(ChatFormat format, const std::string& content) {
  return format == ChatFormat::kHh ? absl::StrCat(" ", content) : content;
}

std::string EndOfTurnMarker(ChatFormat format) {
  switch (format) {
    case ChatFormat::kChatMl:
      return "<|im_end|>";
    case ChatFormat::kLlama3:
      return "<|eot_id|>";
    default:
      return "";
  }
}

}  // namespace metarm
