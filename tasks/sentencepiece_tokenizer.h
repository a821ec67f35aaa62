// SentencePiece models (tokenizer.model: Llama, T5, ...), through Debian's
// libsentencepiece.
//
//   absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> sp =
//       SentencePieceTokenizer::Load("llama/tokenizer.model");
//   TokenSequence ids = (*sp)->Encode("Hello");
//
// bos and eos are the model's; a model without a padding piece (Llama's has
// none) pads with eos, which the attention mask hides.
//
// The library is reached through libmetarm_sentencepiece.so, opened on first
// use (tasks/sentencepiece_library.h says why): it is looked for in
// $METARM_SENTENCEPIECE_LIBRARY, then beside the program (its Bazel runfiles
// and bazel-bin/tasks/), then in tasks/ under the working directory.
#ifndef METARM_TASKS_SENTENCEPIECE_TOKENIZER_H_
#define METARM_TASKS_SENTENCEPIECE_TOKENIZER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tasks/tokenizer.h"

namespace metarm {

class SentencePieceTokenizer : public Tokenizer {
 public:
  // `path`: a tokenizer.model file, or a folder holding one.
  static absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> Load(
      const std::string& path);
  ~SentencePieceTokenizer() override;

  TokenSequence Encode(absl::string_view text) const override;
  std::string Decode(const TokenSequence& tokens) const override;
  int64_t vocab_size() const override { return vocab_size_; }
  int64_t pad_id() const override { return pad_id_; }
  int64_t bos_id() const override { return bos_id_; }
  int64_t eos_id() const override { return eos_id_; }

  // The library's functions (sentencepiece_tokenizer.cc).
  struct Library;

 private:
  SentencePieceTokenizer() = default;

  const Library* library_ = nullptr;
  void* model_ = nullptr;
  int64_t vocab_size_ = 0;
  int64_t pad_id_ = 0, bos_id_ = 0, eos_id_ = 0;
};

// Trains a SentencePiece model on the lines of `text_file` (the library's
// trainer, with `options` such as "--vocab_size=500 --model_type=bpe"),
// writing `model_prefix`.model and .vocab.
absl::Status TrainSentencePiece(const std::string& text_file,
                                const std::string& model_prefix,
                                const std::string& options);

}  // namespace metarm

#endif  // METARM_TASKS_SENTENCEPIECE_TOKENIZER_H_
