#include "tasks/sentencepiece_library.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Processor = sentencepiece::SentencePieceProcessor;

void CopyMessage(const std::string& message, char* out, size_t size) {
  if (size == 0) return;
  const size_t n = std::min(size - 1, message.size());
  std::memcpy(out, message.data(), n);
  out[n] = '\0';
}

}  // namespace

extern "C" {

void* metarm_spm_load(const char* file, char* error, size_t error_size) {
  auto* processor = new Processor();
  const sentencepiece::util::Status loaded = processor->Load(file);
  if (loaded.ok()) return processor;
  CopyMessage(loaded.ToString(), error, error_size);
  delete processor;
  return nullptr;
}

void metarm_spm_free(void* model) { delete static_cast<Processor*>(model); }

int metarm_spm_encode(void* model, const char* text, size_t length, int* ids,
                      int capacity) {
  const std::vector<int> encoded = static_cast<Processor*>(model)->EncodeAsIds(
      std::string_view(text, length));
  const int count = static_cast<int>(encoded.size());
  std::copy_n(encoded.begin(), std::min(count, capacity), ids);
  return count;
}

size_t metarm_spm_decode(void* model, const int* ids, int count, char* text,
                         size_t capacity) {
  const auto* processor = static_cast<Processor*>(model);
  std::vector<int> kept;
  for (int i = 0; i < count; ++i) {
    if (ids[i] >= 0 && ids[i] < processor->GetPieceSize() &&
        !processor->IsControl(ids[i])) {
      kept.push_back(ids[i]);
    }
  }
  const std::string decoded = processor->DecodeIds(kept);
  std::memcpy(text, decoded.data(), std::min(capacity, decoded.size()));
  return decoded.size();
}

int metarm_spm_info(void* model, int what) {
  const auto* processor = static_cast<Processor*>(model);
  switch (what) {
    case 0:
      return processor->GetPieceSize();
    case 1:
      return processor->bos_id();
    case 2:
      return processor->eos_id();
    default:
      return processor->pad_id();
  }
}

int metarm_spm_train(const char* arguments, char* error, size_t error_size) {
  const sentencepiece::util::Status trained =
      sentencepiece::SentencePieceTrainer::Train(arguments);
  if (trained.ok()) return 0;
  CopyMessage(trained.ToString(), error, error_size);
  return -1;
}

}  // extern "C"
