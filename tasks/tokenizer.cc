#include "tasks/tokenizer.h"

#include "absl/strings/str_cat.h"

namespace metarm {

TokenSequence ByteTokenizer::Encode(absl::string_view text) const {
  TokenSequence tokens;
  tokens.reserve(text.size());
  for (unsigned char byte : text) tokens.push_back(kFirstByte + byte);
  return tokens;
}

std::string ByteTokenizer::Decode(const TokenSequence& tokens) const {
  std::string text;
  for (int64_t token : tokens) {
    if (token >= kFirstByte && token < vocab_size()) {
      text.push_back(static_cast<char>(token - kFirstByte));
    }
  }
  return text;
}

}  // namespace metarm
