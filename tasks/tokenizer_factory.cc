#include "tasks/tokenizer_factory.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tasks/bpe_tokenizer.h"
#include "tasks/sentencepiece_tokenizer.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

bool HoldsSentencePiece(const std::string& folder) {
  return PathExists(folder + "/tokenizer.model");
}

bool HoldsBpe(const std::string& folder) {
  return PathExists(folder + "/vocab.json") ||
         PathExists(folder + "/tokenizer.json");
}

}  // namespace

bool HoldsTokenizerFiles(const std::string& folder) {
  return HoldsSentencePiece(folder) || HoldsBpe(folder);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> MakeTokenizer(
    const std::string& name) {
  if (name == "byte" || name.empty()) return std::make_unique<ByteTokenizer>();
  if (absl::EndsWith(name, ".model") || HoldsSentencePiece(name)) {
    METARM_ASSIGN_OR_RETURN(std::unique_ptr<SentencePieceTokenizer> sp,
                            SentencePieceTokenizer::Load(name));
    return std::unique_ptr<Tokenizer>(std::move(sp));
  }
  if (HoldsBpe(name) || absl::EndsWith(name, ".json")) {
    METARM_ASSIGN_OR_RETURN(std::unique_ptr<BpeTokenizer> bpe,
                            BpeTokenizer::FromFolder(name));
    return std::unique_ptr<Tokenizer>(std::move(bpe));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "tokenizer \"", name, "\": not \"byte\", and ",
      PathExists(name) ? "holds no" : "no such path with a",
      " tokenizer.model, vocab.json + merges.txt or tokenizer.json"));
}

}  // namespace metarm
