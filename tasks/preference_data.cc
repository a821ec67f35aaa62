#include "tasks/preference_data.h"

#include <algorithm>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tasks/json_lines.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

using Json = nlohmann::json;

constexpr char kAssistantTurn[] = "\n\nAssistant:";

// A text field as tokens: a string through the tokenizer, or an array of ids.
absl::StatusOr<TokenSequence> ReadText(const Json& value,
                                       const std::string& field,
                                       const Tokenizer& tokenizer) {
  if (value.is_string()) return tokenizer.Encode(value.get<std::string>());
  if (!value.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", field,
                     "\": expected a string or an array of "
                     "token ids, got ",
                     value.type_name()));
  }
  TokenSequence tokens;
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& id = value[i];
    if (!id.is_number_integer()) {
      return absl::InvalidArgumentError(absl::StrCat("field \"", field, "\"[",
                                                     i,
                                                     "]: expected a token id, "
                                                     "got ",
                                                     id.type_name()));
    }
    const int64_t token = id.get<int64_t>();
    if (token < 0 || token >= tokenizer.vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field \"", field, "\"[", i, "]: token id ", token,
          " is outside the vocabulary [0, ", tokenizer.vocab_size(), ")"));
    }
    tokens.push_back(token);
  }
  return tokens;
}

absl::StatusOr<TokenSequence> ReadResponse(const Json& object,
                                           const std::string& field,
                                           const Tokenizer& tokenizer) {
  if (!object.contains(field)) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing field \"", field, "\""));
  }
  absl::StatusOr<TokenSequence> tokens =
      ReadText(object[field], field, tokenizer);
  if (tokens.ok() && tokens->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", field, "\": empty response"));
  }
  return tokens;
}

// A field's text: the string, or its token ids decoded.
std::string TextOf(const Json& value, const TokenSequence& tokens,
                   const Tokenizer& tokenizer) {
  return value.is_string() ? value.get<std::string>()
                           : tokenizer.Decode(tokens);
}

absl::StatusOr<PairRecord> ParsePair(const Json& object,
                                     const Tokenizer& tokenizer) {
  const bool whole_dialogues =
      !object.contains("prompt") && object.contains("chosen") &&
      object["chosen"].is_string() && object.contains("rejected") &&
      object["rejected"].is_string();
  if (whole_dialogues) {
    std::string prompt, chosen, rejected;
    if (!SplitDialogues(object["chosen"].get<std::string>(),
                        object["rejected"].get<std::string>(), &prompt, &chosen,
                        &rejected)) {
      return absl::InvalidArgumentError(
          "no prompt: \"chosen\" and \"rejected\" share no "
          "\"\\n\\nAssistant:\" turn (give a \"prompt\" field instead)");
    }
    // Empty means no characters at all. A whitespace-only answer is
    // content: HH-RLHF's harmless split has replies of a single space, and
    // they are the chosen ones (the assistant declined to answer).
    if (chosen.empty() || rejected.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field \"", chosen.empty() ? "chosen" : "rejected",
                       "\": empty response after the prompt"));
    }
    PreferencePair tokens{tokenizer.Encode(prompt), tokenizer.Encode(chosen),
                          tokenizer.Encode(rejected)};
    return PairRecord{
        std::move(tokens),
        {std::move(prompt), std::move(chosen), std::move(rejected)}};
  }
  if (!object.contains("prompt")) {
    return absl::InvalidArgumentError("missing field \"prompt\"");
  }
  METARM_ASSIGN_OR_RETURN(TokenSequence prompt,
                          ReadText(object["prompt"], "prompt", tokenizer));
  if (prompt.empty()) {
    return absl::InvalidArgumentError("field \"prompt\": empty prompt");
  }
  METARM_ASSIGN_OR_RETURN(TokenSequence chosen,
                          ReadResponse(object, "chosen", tokenizer));
  METARM_ASSIGN_OR_RETURN(TokenSequence rejected,
                          ReadResponse(object, "rejected", tokenizer));
  PairText text{TextOf(object["prompt"], prompt, tokenizer),
                TextOf(object["chosen"], chosen, tokenizer),
                TextOf(object["rejected"], rejected, tokenizer)};
  return PairRecord{{std::move(prompt), std::move(chosen), std::move(rejected)},
                    std::move(text)};
}

absl::StatusOr<ResponseSet> ParseResponseSet(const Json& object,
                                             const Tokenizer& tokenizer,
                                             int64_t k) {
  if (!object.contains("prompt")) {
    return absl::InvalidArgumentError("missing field \"prompt\"");
  }
  METARM_ASSIGN_OR_RETURN(TokenSequence prompt,
                          ReadText(object["prompt"], "prompt", tokenizer));
  if (!object.contains("responses") || !object["responses"].is_array()) {
    return absl::InvalidArgumentError(
        "missing field \"responses\" (an array of texts)");
  }
  const Json& responses = object["responses"];
  if (static_cast<int64_t>(responses.size()) != k) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"responses\": expected ", k,
                     " responses (reward_training.responses_per_prompt), got ",
                     responses.size()));
  }
  ResponseSet set{prompt, {}};
  for (size_t i = 0; i < responses.size(); ++i) {
    const std::string field = absl::StrCat("responses[", i, "]");
    METARM_ASSIGN_OR_RETURN(TokenSequence response,
                            ReadText(responses[i], field, tokenizer));
    if (response.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field \"", field, "\": empty response"));
    }
    set.responses.push_back(std::move(response));
  }
  return set;
}

Json TokensToJson(const TokenSequence& tokens) { return Json(tokens); }

}  // namespace

bool SplitDialogues(const std::string& chosen, const std::string& rejected,
                    std::string* prompt, std::string* chosen_response,
                    std::string* rejected_response) {
  const size_t common = static_cast<size_t>(
      std::mismatch(chosen.begin(),
                    chosen.begin() + std::min(chosen.size(), rejected.size()),
                    rejected.begin())
          .first -
      chosen.begin());
  // The last assistant turn lying wholly within the shared part.
  const size_t marker = sizeof(kAssistantTurn) - 1;
  if (common < marker) return false;
  const size_t turn = chosen.rfind(kAssistantTurn, common - marker);
  if (turn == std::string::npos) return false;
  const size_t end = turn + marker;
  *prompt = chosen.substr(0, end);
  *chosen_response = chosen.substr(end);
  *rejected_response = rejected.substr(end);
  return true;
}

absl::StatusOr<std::vector<PairRecord>> ReadPairRecords(
    const std::string& path, const Tokenizer& tokenizer) {
  return ReadJsonLines<PairRecord>(
      path, [&](const Json& object) { return ParsePair(object, tokenizer); });
}

absl::StatusOr<std::vector<PreferencePair>> ReadPreferencePairs(
    const std::string& path, const Tokenizer& tokenizer) {
  METARM_ASSIGN_OR_RETURN(std::vector<PairRecord> records,
                          ReadPairRecords(path, tokenizer));
  std::vector<PreferencePair> pairs;
  pairs.reserve(records.size());
  for (PairRecord& record : records) pairs.push_back(std::move(record.tokens));
  return pairs;
}

absl::StatusOr<std::vector<ResponseSet>> ReadResponseSets(
    const std::string& path, const Tokenizer& tokenizer,
    int64_t responses_per_prompt) {
  return ReadJsonLines<ResponseSet>(path, [&](const Json& object) {
    return ParseResponseSet(object, tokenizer, responses_per_prompt);
  });
}

TokenSequence JoinPromptResponse(const TokenSequence& prompt,
                                 const TokenSequence& response,
                                 int64_t max_prompt_tokens,
                                 int64_t max_response_tokens,
                                 const Tokenizer& tokenizer) {
  TokenSequence joined{tokenizer.bos_id()};
  const int64_t prompt_kept =
      std::min<int64_t>(max_prompt_tokens, prompt.size());
  joined.insert(joined.end(), prompt.end() - prompt_kept, prompt.end());
  const int64_t response_kept =
      std::min<int64_t>(max_response_tokens, response.size());
  joined.insert(joined.end(), response.begin(),
                response.begin() + response_kept);
  joined.push_back(tokenizer.eos_id());
  return joined;
}

std::string PreferencePairToJsonLine(const PreferencePair& pair) {
  return Json{{"prompt", TokensToJson(pair.prompt)},
              {"chosen", TokensToJson(pair.chosen)},
              {"rejected", TokensToJson(pair.rejected)}}
             .dump() +
         "\n";
}

std::string ResponseSetToJsonLine(const ResponseSet& set) {
  Json responses = Json::array();
  for (const TokenSequence& response : set.responses) {
    responses.push_back(TokensToJson(response));
  }
  return Json{{"prompt", TokensToJson(set.prompt)}, {"responses", responses}}
             .dump() +
         "\n";
}

}  // namespace metarm
