// The tokenizer a job names (task.tokenizer):
//   "byte"                       the built-in byte-level tokenizer
//   a folder or file path        GPT-2 byte-level BPE (vocab.json +
//                                merges.txt, or tokenizer.json) or a
//                                SentencePiece model (tokenizer.model,
//                                or any *.model file)
//
//   absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeTokenizer("gpt2/");
#ifndef METARM_TASKS_TOKENIZER_FACTORY_H_
#define METARM_TASKS_TOKENIZER_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tasks/tokenizer.h"

namespace metarm {

// Errors name the path and what was looked for in it.
absl::StatusOr<std::unique_ptr<Tokenizer>> MakeTokenizer(
    const std::string& name);

// True when `folder` holds the files of a tokenizer MakeTokenizer reads
// (tokenizer.model, vocab.json, tokenizer.json).
bool HoldsTokenizerFiles(const std::string& folder);

}  // namespace metarm

#endif  // METARM_TASKS_TOKENIZER_FACTORY_H_
