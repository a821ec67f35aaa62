// Reading preference pairs and unlabelled response sets from JSON lines
// (plain or gzip), for the testbed's files and for what users bring.
//
//   ByteTokenizer tokenizer;
//   absl::StatusOr<std::vector<PreferencePair>> pairs =
//       ReadPreferencePairs("pairs.jsonl.gz", tokenizer);
//
// Accepted layouts, one JSON object a line:
//   {"prompt": P, "chosen": C, "rejected": R}
//   {"chosen": C, "rejected": R}   whole dialogues (HH-RLHF): the prompt is
//       their shared prefix up to and including the last "\n\nAssistant:".
//   {"prompt": P, "responses": [S1, ..., Sk]}   a response set (meta set)
// Each text is a string (tokenized) or an array of token ids (taken as is,
// each checked against the vocabulary). A response must not be empty (zero
// characters or tokens; whitespace counts as content), nor a prompt. Every
// problem is an InvalidArgument (or DataLoss for a corrupt gzip stream) naming
// the file, the line and the reason.
#ifndef METARM_TASKS_PREFERENCE_DATA_H_
#define METARM_TASKS_PREFERENCE_DATA_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/tokenizer.h"

namespace metarm {

struct PreferencePair {
  TokenSequence prompt;
  TokenSequence chosen;
  TokenSequence rejected;
};

// A prompt with k responses, no labels.
struct ResponseSet {
  TokenSequence prompt;
  std::vector<TokenSequence> responses;
};

absl::StatusOr<std::vector<PreferencePair>> ReadPreferencePairs(
    const std::string& path, const Tokenizer& tokenizer);

// Each pair as tokens and as text, in one reading: for the prompts and
// demonstrations an RLHF job takes from its pairs. Fields given as token
// ids are decoded for their text (special tokens dropped).
struct PairText {
  std::string prompt, chosen, rejected;
};
struct PairRecord {
  PreferencePair tokens;
  PairText text;
};
absl::StatusOr<std::vector<PairRecord>> ReadPairRecords(
    const std::string& path, const Tokenizer& tokenizer);

// Every line must hold exactly `responses_per_prompt` responses (k).
absl::StatusOr<std::vector<ResponseSet>> ReadResponseSets(
    const std::string& path, const Tokenizer& tokenizer,
    int64_t responses_per_prompt);

// The model's input for a prompt and a response: [BOS] + the last
// max_prompt_tokens of the prompt + the first max_response_tokens of the
// response + [EOS].
TokenSequence JoinPromptResponse(const TokenSequence& prompt,
                                 const TokenSequence& response,
                                 int64_t max_prompt_tokens,
                                 int64_t max_response_tokens,
                                 const Tokenizer& tokenizer);

// Splits an HH-RLHF pair of whole dialogues into prompt and two responses.
// False when the two share no "\n\nAssistant:" turn.
bool SplitDialogues(const std::string& chosen, const std::string& rejected,
                    std::string* prompt, std::string* chosen_response,
                    std::string* rejected_response);

// Writers for the files the readers take (one JSON object a line).
std::string PreferencePairToJsonLine(const PreferencePair& pair);
std::string ResponseSetToJsonLine(const ResponseSet& set);

}  // namespace metarm

#endif  // METARM_TASKS_PREFERENCE_DATA_H_
