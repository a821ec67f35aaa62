// A tokenizer whose end token is a chat template's end of turn, so that
// everything downstream (the end token after each demonstration, pair and
// sampled response; where sampling stops) follows the template.
//
//   METARM_ASSIGN_OR_RETURN(std::unique_ptr<ChatTokenizer> tokenizer,
//       ChatTokenizer::Make(std::move(base), ChatFormat::kChatMl, "qwen/"));
//   tokenizer->eos_id();    // <|im_end|>
//   tokenizer->stop_ids();  // {<|endoftext|>}: generation stops there too
#ifndef METARM_TASKS_CHAT_TOKENIZER_H_
#define METARM_TASKS_CHAT_TOKENIZER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/chat_format.h"
#include "tasks/tokenizer.h"

namespace metarm {

class ChatTokenizer : public Tokenizer {
 public:
  // The template's end-of-turn marker (EndOfTurnMarker) must be one token of
  // `base` (a special token of its tokenizer.json); HH and PLAIN use the
  // base's own end token. Errors name `source` (the tokenizer's path).
  static absl::StatusOr<std::unique_ptr<ChatTokenizer>> Make(
      std::unique_ptr<Tokenizer> base, ChatFormat format,
      const std::string& source);

  TokenSequence Encode(absl::string_view text) const override {
    return base_->Encode(text);
  }
  std::string Decode(const TokenSequence& tokens) const override {
    return base_->Decode(tokens);
  }
  int64_t vocab_size() const override { return base_->vocab_size(); }
  int64_t pad_id() const override { return base_->pad_id(); }
  int64_t bos_id() const override { return base_->bos_id(); }
  // The end of a reply: the template's end of turn.
  int64_t eos_id() const override { return end_of_turn_; }
  // Other tokens that end a reply: the base tokenizer's end token, where it
  // is not the end of turn.
  const std::vector<int64_t>& stop_ids() const { return stop_ids_; }
  ChatFormat format() const { return format_; }

 private:
  ChatTokenizer(std::unique_ptr<Tokenizer> base, ChatFormat format,
                int64_t end_of_turn);

  std::unique_ptr<Tokenizer> base_;
  ChatFormat format_;
  int64_t end_of_turn_;
  std::vector<int64_t> stop_ids_;
};

}  // namespace metarm

#endif  // METARM_TASKS_CHAT_TOKENIZER_H_
