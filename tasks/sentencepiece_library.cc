#include "tasks/sentencepiece_library.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace metarm {

SentencePieceModel::SentencePieceModel()
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}

SentencePieceModel::~SentencePieceModel() = default;

std::unique_ptr<SentencePieceModel> SentencePieceModel::Load(
    const std::string& file, std::string* error) {
  std::unique_ptr<SentencePieceModel> model(new SentencePieceModel());
  const sentencepiece::util::Status loaded = model->processor_->Load(file);
  if (!loaded.ok()) {
    *error = loaded.ToString();
    return nullptr;
  }
  return model;
}

std::vector<int> SentencePieceModel::Encode(std::string_view text) const {
  return processor_->EncodeAsIds(text);
}

std::string SentencePieceModel::Decode(const std::vector<int>& ids) const {
  std::vector<int> kept;
  for (int id : ids) {
    if (id >= 0 && id < pieces() && !processor_->IsControl(id)) {
      kept.push_back(id);
    }
  }
  return processor_->DecodeIds(kept);
}

int SentencePieceModel::pieces() const { return processor_->GetPieceSize(); }
int SentencePieceModel::bos_id() const { return processor_->bos_id(); }
int SentencePieceModel::eos_id() const { return processor_->eos_id(); }
int SentencePieceModel::pad_id() const { return processor_->pad_id(); }

std::string TrainSentencePieceModel(const std::string& arguments) {
  const sentencepiece::util::Status trained =
      sentencepiece::SentencePieceTrainer::Train(arguments);
  return trained.ok() ? "" : trained.ToString();
}

}  // namespace metarm
