#include "tasks/chat_tokenizer.h"

#include "absl/strings/str_cat.h"

namespace metarm {

ChatTokenizer::ChatTokenizer(std::unique_ptr<Tokenizer> base, ChatFormat format,
                             int64_t end_of_turn)
    : base_(std::move(base)), format_(format), end_of_turn_(end_of_turn) {
  if (base_->eos_id() != end_of_turn_) stop_ids_.push_back(base_->eos_id());
}

absl::StatusOr<std::unique_ptr<ChatTokenizer>> ChatTokenizer::Make(
    std::unique_ptr<Tokenizer> base, ChatFormat format,
    const std::string& source) {
  if (base->eos_id() < 0 || base->eos_id() >= base->vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": the tokenizer has no end-of-sequence token, so no response "
        "could end"));
  }
  const std::string marker = EndOfTurnMarker(format);
  if (marker.empty()) {
    const int64_t eos = base->eos_id();
    return std::unique_ptr<ChatTokenizer>(
        new ChatTokenizer(std::move(base), format, eos));
  }
  const TokenSequence ids = base->Encode(marker);
  if (ids.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": task.chat_template ", ChatFormatName(format),
        " ends a reply with ", marker, ", which this tokenizer reads as ",
        ids.size(),
        " tokens, not one special token (a tokenizer.json whose added_tokens "
        "hold it is needed)"));
  }
  return std::unique_ptr<ChatTokenizer>(
      new ChatTokenizer(std::move(base), format, ids[0]));
}

}  // namespace metarm
