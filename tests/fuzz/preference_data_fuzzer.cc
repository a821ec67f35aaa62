// libFuzzer target: the JSON-lines readers (preference pairs and their
// texts, response sets, prompts through the fit rule, demonstrations) on
// arbitrary file contents (plain or gzip). Whatever the bytes, each reader
// returns records or an error naming the file: no crash, no undefined
// behaviour, no leak (run under ASan and UBSan).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tasks/chat_format.h"
#include "tasks/preference_data.h"
#include "tasks/prompt_data.h"
#include "tasks/tokenizer.h"

namespace {

std::string ScratchFile() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/metarm_fuzz_" +
         std::to_string(::getpid()) + ".jsonl";
}

template <typename Result>
void CheckNamesFile(const Result& result, const std::string& path) {
  if (!result.ok() &&
      result.status().message().find(path) == std::string::npos) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = ScratchFile();
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  metarm::ByteTokenizer tokenizer;
  CheckNamesFile(metarm::ReadPreferencePairs(path, tokenizer), path);
  CheckNamesFile(metarm::ReadResponseSets(path, tokenizer, 2), path);
  CheckNamesFile(metarm::ReadPairRecords(path, tokenizer), path);
  const metarm::PromptFitter fitter(metarm::ChatFormat::kChatMl, tokenizer, 64);
  CheckNamesFile(metarm::ReadPrompts(path, fitter), path);
  CheckNamesFile(metarm::ReadDemonstrations(path, metarm::ChatFormat::kHh),
                 path);
  return 0;
}
