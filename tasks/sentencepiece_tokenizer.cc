#include "tasks/sentencepiece_tokenizer.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"

namespace metarm {

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>>
SentencePieceTokenizer::Load(const std::string& path) {
  struct stat info;
  std::string file = path;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    file = path + "/tokenizer.model";
  }
  std::string error;
  std::unique_ptr<SentencePieceModel> model =
      SentencePieceModel::Load(file, &error);
  if (model == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": not a SentencePiece model: ", error));
  }
  if (model->bos_id() < 0 || model->eos_id() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": the model has no ", model->bos_id() < 0 ? "bos" : "eos",
        " piece; metarm needs both"));
  }
  std::unique_ptr<SentencePieceTokenizer> tokenizer(
      new SentencePieceTokenizer());
  tokenizer->vocab_size_ = model->pieces();
  tokenizer->bos_id_ = model->bos_id();
  tokenizer->eos_id_ = model->eos_id();
  tokenizer->pad_id_ = model->pad_id() >= 0 ? model->pad_id() : model->eos_id();
  tokenizer->model_ = std::move(model);
  return tokenizer;
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

TokenSequence SentencePieceTokenizer::Encode(absl::string_view text) const {
  std::vector<int> ids =
      model_->Encode(std::string_view(text.data(), text.size()));
  return TokenSequence(ids.begin(), ids.end());
}

std::string SentencePieceTokenizer::Decode(const TokenSequence& tokens) const {
  std::vector<int> ids;
  for (int64_t id : tokens) {
    if (id >= 0 && id < vocab_size_) ids.push_back(static_cast<int>(id));
  }
  return model_->Decode(ids);
}

absl::Status TrainSentencePiece(const std::string& text_file,
                                const std::string& model_prefix,
                                const std::string& options) {
  const std::string error = TrainSentencePieceModel(absl::StrCat(
      "--input=", text_file, " --model_prefix=", model_prefix, " ", options));
  if (error.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "training a SentencePiece model on ", text_file, ": ", error));
}

}  // namespace metarm
