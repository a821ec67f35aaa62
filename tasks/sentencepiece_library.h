// The part of metarm that touches libsentencepiece, behind a std-only
// interface: the library's header declares its own absl::string_view, which
// clashes with abseil's, so no file including this one's .cc may include
// abseil (tasks/sentencepiece_tokenizer.h is the interface to use).
#ifndef METARM_TASKS_SENTENCEPIECE_LIBRARY_H_
#define METARM_TASKS_SENTENCEPIECE_LIBRARY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace metarm {

class SentencePieceModel {
 public:
  // Null with `error` set when `file` is not a model.
  static std::unique_ptr<SentencePieceModel> Load(const std::string& file,
                                                  std::string* error);
  ~SentencePieceModel();

  std::vector<int> Encode(std::string_view text) const;
  // Control pieces (bos, eos, pad) and ids outside the vocabulary dropped.
  std::string Decode(const std::vector<int>& ids) const;
  int pieces() const;
  int bos_id() const;  // -1 when the model has none
  int eos_id() const;
  int pad_id() const;

 private:
  SentencePieceModel();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

// SentencePieceTrainer::Train with command-line style `arguments`; the
// library's error, or empty on success.
std::string TrainSentencePieceModel(const std::string& arguments);

}  // namespace metarm

#endif  // METARM_TASKS_SENTENCEPIECE_LIBRARY_H_
