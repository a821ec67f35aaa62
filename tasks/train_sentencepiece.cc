// metarm_train_sentencepiece: trains a SentencePiece tokenizer for a job's
// task.tokenizer, through libsentencepiece's trainer.
//
//   metarm_train_sentencepiece --input=text.txt --model_prefix=out/tok
//       --options="--vocab_size=8000 --model_type=bpe --byte_fallback=true"
//
// writes out/tok.model (and out/tok.vocab). Exit 2 on bad input.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "tasks/sentencepiece_tokenizer.h"

ABSL_FLAG(std::string, input, "", "Training text, one sentence per line.");
ABSL_FLAG(std::string, model_prefix, "", "Writes PREFIX.model, PREFIX.vocab.");
ABSL_FLAG(std::string, options,
          "--vocab_size=8000 --model_type=bpe --byte_fallback=true",
          "SentencePiece trainer options.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_input).empty() ||
      absl::GetFlag(FLAGS_model_prefix).empty()) {
    std::cerr << "metarm_train_sentencepiece: --input and --model_prefix are "
                 "required\n";
    return 2;
  }
  absl::Status trained = metarm::TrainSentencePiece(
      absl::GetFlag(FLAGS_input), absl::GetFlag(FLAGS_model_prefix),
      absl::GetFlag(FLAGS_options));
  if (!trained.ok()) {
    std::cerr << "metarm_train_sentencepiece: " << trained.message() << "\n";
    return 2;
  }
  std::cout << absl::GetFlag(FLAGS_model_prefix) << ".model\n";
  return 0;
}
