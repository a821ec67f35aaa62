// Prompt sets and SFT demonstrations in JSON lines (plain or gzip), and the
// rule that fits a prompt into the model's prompt budget.
//
//   PromptFitter fitter(ChatFormat::kHh, tokenizer, /*max_prompt_tokens=*/256);
//   METARM_ASSIGN_OR_RETURN(PromptSet prompts,
//                           ReadPrompts("prompts.jsonl", fitter));
//   METARM_ASSIGN_OR_RETURN(std::vector<Demonstration> demonstrations,
//                           ReadDemonstrations("sft.jsonl", ChatFormat::kHh));
//
// Prompt lines: {"prompt": P} (P is the model's input text, as is) or
// {"messages": [{"role": R, "content": C}, ...]} with roles system, user and
// assistant, the last message the user's, formatted by the chat template.
// Demonstration lines: {"prompt": P, "response": R} or {"messages": [...]}
// whose last message is the assistant's reply. Refused, naming the file, the
// line and the reason: an empty prompt, response or message list, an unknown
// role, a conversation that does not end where it should.
#ifndef METARM_TASKS_PROMPT_DATA_H_
#define METARM_TASKS_PROMPT_DATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/chat_format.h"
#include "tasks/tokenizer.h"

namespace metarm {

// How many prompts the fit rule changed.
struct PromptCounts {
  int64_t read = 0;
  int64_t shortened = 0;  // chat prompts that lost their oldest turns
  int64_t dropped = 0;    // prompts that could not fit at all
};

struct PromptSet {
  std::vector<std::string> prompts;  // the model's input text
  PromptCounts counts;
};

struct Demonstration {
  std::string prompt;
  std::string response;
};

// The fit rule. A prompt must take at most max_prompt_tokens tokens: a chat
// prompt that takes more loses its oldest turns, whole, until it fits
// (shortened); a chat prompt whose last user turn alone is too long, and a
// text prompt that is too long, are dropped. Cutting inside a turn would
// leave half a sentence with no speaker; the preference pairs, whose
// prompts cannot be dropped, keep their last max_prompt_tokens tokens
// instead (tasks/preference_data.h, JoinPromptResponse).
class PromptFitter {
 public:
  PromptFitter(ChatFormat format, const Tokenizer& tokenizer,
               int64_t max_prompt_tokens)
      : format_(format),
        tokenizer_(tokenizer),
        max_prompt_tokens_(max_prompt_tokens) {}

  // The formatted prompt, or nullopt when it cannot fit; `shortened` is set
  // when turns were dropped.
  std::optional<std::string> FitMessages(std::vector<ChatMessage> messages,
                                         bool* shortened) const;
  // The text itself, or nullopt when it is too long.
  std::optional<std::string> FitText(const std::string& text) const;
  // Every text through FitText, counted.
  PromptSet FitTexts(const std::vector<std::string>& texts) const;

  ChatFormat format() const { return format_; }
  int64_t max_prompt_tokens() const { return max_prompt_tokens_; }

 private:
  bool Fits(const std::string& text) const;

  ChatFormat format_;
  const Tokenizer& tokenizer_;
  int64_t max_prompt_tokens_;
};

// A prompt file through the fit rule. Also refused: a file none of whose
// prompts fits.
absl::StatusOr<PromptSet> ReadPrompts(const std::string& path,
                                      const PromptFitter& fitter);

// Demonstrations are not fitted here: SFT keeps the last max_prompt_tokens
// of each prompt and the first max_response_tokens of each response, as
// for pairs.
absl::StatusOr<std::vector<Demonstration>> ReadDemonstrations(
    const std::string& path, ChatFormat format);

// Refuses a prompt set with no prompt left after the fit rule, naming
// `source` and the budget.
absl::Status CheckSomePromptFits(const PromptSet& set,
                                 const std::string& source,
                                 const PromptFitter& fitter);

}  // namespace metarm

#endif  // METARM_TASKS_PROMPT_DATA_H_
