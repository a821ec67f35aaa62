// Text to token ids and back.
//
//   ByteTokenizer tokenizer;
//   TokenSequence ids = tokenizer.Encode("Human: hi");
//   std::string text = tokenizer.Decode(ids);
#ifndef METARM_TASKS_TOKENIZER_H_
#define METARM_TASKS_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metarm {

using TokenSequence = std::vector<int64_t>;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual TokenSequence Encode(absl::string_view text) const = 0;
  // Special tokens are dropped.
  virtual std::string Decode(const TokenSequence& tokens) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t pad_id() const = 0;
  virtual int64_t bos_id() const = 0;
  virtual int64_t eos_id() const = 0;
};

// The built-in byte-level tokenizer: 0 padding, 1 begin, 2 end, and byte b is
// token 3 + b (vocabulary 259). Any text round-trips.
class ByteTokenizer : public Tokenizer {
 public:
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kBos = 1;
  static constexpr int64_t kEos = 2;
  static constexpr int64_t kFirstByte = 3;

  TokenSequence Encode(absl::string_view text) const override;
  std::string Decode(const TokenSequence& tokens) const override;
  int64_t vocab_size() const override { return kFirstByte + 256; }
  int64_t pad_id() const override { return kPad; }
  int64_t bos_id() const override { return kBos; }
  int64_t eos_id() const override { return kEos; }
};

}  // namespace metarm

#endif  // METARM_TASKS_TOKENIZER_H_
