#include "tasks/prompt_data.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tasks/json_lines.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

using Json = nlohmann::json;

// A string field holding more than whitespace.
absl::StatusOr<std::string> ReadNonEmpty(const Json& object,
                                         const std::string& field,
                                         const std::string& what) {
  if (!object.contains(field) || !object[field].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", field, "\": expected a string"));
  }
  std::string text = object[field].get<std::string>();
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", field, "\": empty ", what));
  }
  return text;
}

// The "messages" array; the last message must have role `last_role`.
absl::StatusOr<std::vector<ChatMessage>> ReadMessages(
    const Json& object, const std::string& last_role) {
  const Json& array = object["messages"];
  if (!array.is_array() || array.empty()) {
    return absl::InvalidArgumentError(
        "field \"messages\": expected a non-empty array of {\"role\", "
        "\"content\"}");
  }
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string where = absl::StrCat("messages[", i, "]");
    if (!array[i].is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected an object {\"role\", \"content\"}"));
    }
    METARM_ASSIGN_OR_RETURN(std::string role,
                            ReadNonEmpty(array[i], "role", "role"), where);
    if (!IsKnownRole(role)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown role \"", role, "\" (system, user or assistant)"));
    }
    METARM_ASSIGN_OR_RETURN(std::string content,
                            ReadNonEmpty(array[i], "content", "message"),
                            where);
    messages.push_back({role, content});
  }
  if (messages.back().role != last_role) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"messages\": the last message must be the ",
                     last_role, "'s, got the ", messages.back().role, "'s"));
  }
  return messages;
}

// One prompt line: the fitted text, or "" when the fit rule dropped it.
struct FittedPrompt {
  std::string text;
  bool shortened = false;
};

absl::StatusOr<FittedPrompt> ParsePrompt(const Json& object,
                                         const PromptFitter& fitter) {
  FittedPrompt fitted;
  std::optional<std::string> text;
  if (object.contains("messages")) {
    METARM_ASSIGN_OR_RETURN(std::vector<ChatMessage> messages,
                            ReadMessages(object, "user"));
    text = fitter.FitMessages(std::move(messages), &fitted.shortened);
  } else if (object.contains("prompt")) {
    METARM_ASSIGN_OR_RETURN(std::string prompt,
                            ReadNonEmpty(object, "prompt", "prompt"));
    text = fitter.FitText(prompt);
  } else {
    return absl::InvalidArgumentError(
        "expected a field \"prompt\" or \"messages\"");
  }
  if (text.has_value()) fitted.text = *std::move(text);
  return fitted;
}

absl::StatusOr<Demonstration> ParseDemonstration(const Json& object,
                                                 ChatFormat format) {
  if (object.contains("messages")) {
    METARM_ASSIGN_OR_RETURN(std::vector<ChatMessage> messages,
                            ReadMessages(object, "assistant"));
    if (messages.size() < 2) {
      return absl::InvalidArgumentError(
          "field \"messages\": no prompt before the assistant's reply");
    }
    const std::string reply = messages.back().content;
    messages.pop_back();
    return Demonstration{FormatPrompt(format, messages),
                         FormatResponse(format, reply)};
  }
  METARM_ASSIGN_OR_RETURN(std::string prompt,
                          ReadNonEmpty(object, "prompt", "prompt"));
  METARM_ASSIGN_OR_RETURN(std::string response,
                          ReadNonEmpty(object, "response", "response"));
  return Demonstration{prompt, response};
}

}  // namespace

bool PromptFitter::Fits(const std::string& text) const {
  return static_cast<int64_t>(tokenizer_.Encode(text).size()) <=
         max_prompt_tokens_;
}

std::optional<std::string> PromptFitter::FitMessages(
    std::vector<ChatMessage> messages, bool* shortened) const {
  *shortened = false;
  // A leading system message stays while there is a turn to drop.
  const size_t first = messages.front().role == "system" ? 1 : 0;
  while (true) {
    std::string text = FormatPrompt(format_, messages);
    if (Fits(text)) return text;
    if (messages.size() <= first + 1) break;
    // The oldest turn goes, then any assistant turn that would open the
    // conversation.
    *shortened = true;
    messages.erase(messages.begin() + first);
    while (messages.size() > first + 1 && messages[first].role == "assistant") {
      messages.erase(messages.begin() + first);
    }
  }
  return std::nullopt;
}

std::optional<std::string> PromptFitter::FitText(
    const std::string& text) const {
  if (Fits(text)) return text;
  return std::nullopt;
}

PromptSet PromptFitter::FitTexts(const std::vector<std::string>& texts) const {
  PromptSet set;
  for (const std::string& text : texts) {
    ++set.counts.read;
    std::optional<std::string> fitted = FitText(text);
    if (fitted.has_value()) {
      set.prompts.push_back(*std::move(fitted));
    } else {
      ++set.counts.dropped;
    }
  }
  return set;
}

absl::StatusOr<PromptSet> ReadPrompts(const std::string& path,
                                      const PromptFitter& fitter) {
  METARM_ASSIGN_OR_RETURN(
      std::vector<FittedPrompt> lines,
      ReadJsonLines<FittedPrompt>(path, [&](const Json& object) {
        return ParsePrompt(object, fitter);
      }));
  PromptSet set;
  for (FittedPrompt& line : lines) {
    ++set.counts.read;
    if (line.text.empty()) {
      ++set.counts.dropped;
      continue;
    }
    set.counts.shortened += line.shortened ? 1 : 0;
    set.prompts.push_back(std::move(line.text));
  }
  METARM_RETURN_IF_ERROR(CheckSomePromptFits(set, path, fitter));
  return set;
}

absl::StatusOr<std::vector<Demonstration>> ReadDemonstrations(
    const std::string& path, ChatFormat format) {
  return ReadJsonLines<Demonstration>(path, [&](const Json& object) {
    return ParseDemonstration(object, format);
  });
}

absl::Status CheckSomePromptFits(const PromptSet& set,
                                 const std::string& source,
                                 const PromptFitter& fitter) {
  if (!set.prompts.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      source, ": none of its ", set.counts.read,
      " prompts fits task.max_prompt_tokens = ", fitter.max_prompt_tokens(),
      " tokens with task.chat_template ", ChatFormatName(fitter.format()),
      " (raise it, or give shorter prompts)"));
}

}  // namespace metarm
