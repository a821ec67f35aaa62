// Byte-level BPE (GPT-2, Llama 3, Qwen2): the text is split by a pattern
// (GPT-2's: contractions, letters, digits, other symbols, whitespace; or the
// tokenizer.json's own Split regex, as Llama 3's and Qwen2's; Unicode classes
// through PCRE2),
// each piece's bytes are mapped to printable characters (bytes_to_unicode),
// then merged pair by pair in the order of the merges list.
//
//   absl::StatusOr<std::unique_ptr<BpeTokenizer>> gpt2 =
//       BpeTokenizer::FromFolder("gpt2/");  // vocab.json + merges.txt,
//                                           // or tokenizer.json
//   TokenSequence ids = (*gpt2)->Encode("Hello world");  // {15496, 995}
//
// A tokenizer.json's "ignore_merges" (Llama 3) makes a piece that is a whole
// vocabulary entry that token. Its "normalizer" is not applied (Qwen2's is
// NFC, the identity on text already in NFC, which most text is).
//
// Special tokens (tokenizer.json's added_tokens, or "<|endoftext|>") are
// matched in the text first, as the Hugging Face tokenizers do. bos, eos and
// pad are named by tokenizer_config.json's bos_token / eos_token / pad_token
// when the folder has one, else all three are "<|endoftext|>" (GPT-2).
#ifndef METARM_TASKS_BPE_TOKENIZER_H_
#define METARM_TASKS_BPE_TOKENIZER_H_

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/tokenizer.h"

namespace metarm {

// A compiled pre-tokenizer pattern (PCRE2, UTF and Unicode properties).
class SplitPattern {
 public:
  // InvalidArgument naming the offset where the pattern fails to compile.
  static absl::StatusOr<std::shared_ptr<const SplitPattern>> Compile(
      const std::string& pattern);
  ~SplitPattern();
  SplitPattern(const SplitPattern&) = delete;
  SplitPattern& operator=(const SplitPattern&) = delete;

  // The pieces of `text`: every match, and the text between matches as
  // pieces of their own (Hugging Face's "Isolated" behaviour).
  std::vector<std::string> Split(absl::string_view text) const;

 private:
  explicit SplitPattern(void* code) : code_(code) {}
  void* code_;  // pcre2_code*, kept out of this header
};

// GPT-2's pre-tokenization: the pieces of `text` (UTF-8) that BPE encodes
// one by one, e.g. "Hello  world!!" -> {"Hello", " ", " world", "!!"}.
std::vector<std::string> PreTokenize(absl::string_view text);

class BpeTokenizer : public Tokenizer {
 public:
  // vocab.json + merges.txt, or tokenizer.json, in `folder`; or `path` is a
  // tokenizer.json. Errors name the file and the entry.
  static absl::StatusOr<std::unique_ptr<BpeTokenizer>> FromFolder(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<BpeTokenizer>> FromVocabAndMerges(
      const std::string& vocab_json, const std::string& merges_txt);
  static absl::StatusOr<std::unique_ptr<BpeTokenizer>> FromTokenizerJson(
      const std::string& path);

  TokenSequence Encode(absl::string_view text) const override;
  std::string Decode(const TokenSequence& tokens) const override;
  int64_t vocab_size() const override { return vocab_size_; }
  int64_t pad_id() const override { return pad_id_; }
  int64_t bos_id() const override { return bos_id_; }
  int64_t eos_id() const override { return eos_id_; }

 private:
  BpeTokenizer() = default;
  // Checks the vocabulary, adds the special tokens and picks bos/eos/pad.
  absl::Status Finish(const std::string& source,
                      const std::map<std::string, std::string>& roles);
  void EncodePiece(const std::string& piece, TokenSequence& out) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::map<std::pair<std::string, std::string>, int64_t> merge_rank_;
  std::map<std::string, int64_t> special_;  // content -> id
  std::vector<bool> is_special_;
  std::shared_ptr<const SplitPattern> pattern_;  // null: GPT-2's
  bool ignore_merges_ = false;
  int64_t vocab_size_ = 0;
  int64_t pad_id_ = 0, bos_id_ = 0, eos_id_ = 0;
};

}  // namespace metarm

#endif  // METARM_TASKS_BPE_TOKENIZER_H_
