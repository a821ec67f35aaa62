#include "tasks/bpe_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "util/file.h"
#include "util/json_file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

using Json = nlohmann::json;

// GPT-2's split pattern (its encoder.py).
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr char kEndOfText[] = "<|endoftext|>";

std::string Utf8(uint32_t code_point) {
  std::string out;
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
  return out;
}

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others
// for code points 256 and up, so that every byte is a visible character.
struct ByteAlphabet {
  std::string of_byte[256];
  std::unordered_map<std::string, uint8_t> byte_of;

  ByteAlphabet() {
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') ||
                             (b >= 0xA1 && b <= 0xAC) ||
                             (b >= 0xAE && b <= 0xFF);
      of_byte[b] = Utf8(printable ? b : next++);
      byte_of[of_byte[b]] = static_cast<uint8_t>(b);
    }
  }
};

const ByteAlphabet& Alphabet() {
  static const ByteAlphabet* alphabet = new ByteAlphabet();
  return *alphabet;
}

// The UTF-8 characters of `s`, each as its own string.
std::vector<std::string> Characters(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, length));
    i += length;
  }
  return out;
}

// bos/eos/pad token contents from tokenizer_config.json beside `path`
// (strings, or objects with "content"); empty where it says nothing.
std::map<std::string, std::string> SpecialRoles(const std::string& folder) {
  std::map<std::string, std::string> roles;
  absl::StatusOr<Json> config = ReadJsonFile(folder + "/tokenizer_config.json");
  if (!config.ok() || !config->is_object()) return roles;
  for (const char* role : {"bos_token", "eos_token", "pad_token"}) {
    const Json& value = config->value(role, Json());
    if (value.is_string()) roles[role] = value.get<std::string>();
    if (value.is_object() && value.contains("content")) {
      roles[role] = value["content"].get<std::string>();
    }
  }
  return roles;
}

std::string FolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The pre-tokenizer of a tokenizer.json: GPT-2's pattern for a plain
// ByteLevel one, or the Split pattern of a Sequence [Split (Isolated),
// ByteLevel without its own regex] (Llama 3, Qwen2).
absl::StatusOr<std::string> SplitPatternOf(const Json& pre,
                                           const std::string& path) {
  const std::string type = pre.is_object() ? pre.value("type", "") : "";
  if (type == "ByteLevel") return std::string(kGpt2Pattern);
  if (type == "Sequence" && pre.contains("pretokenizers") &&
      pre["pretokenizers"].is_array() && pre["pretokenizers"].size() == 2) {
    const Json& split = pre["pretokenizers"][0];
    const Json& bytes = pre["pretokenizers"][1];
    const bool isolated =
        split.value("type", "") == "Split" &&
        split.value("behavior", "") == "Isolated" &&
        !split.value("invert", false) && split.contains("pattern") &&
        split["pattern"].is_object() && split["pattern"].contains("Regex");
    if (isolated && bytes.value("type", "") == "ByteLevel" &&
        !bytes.value("use_regex", true)) {
      return split["pattern"]["Regex"].get<std::string>();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path,
      ": pre_tokenizer must be ByteLevel (GPT-2) or a Sequence of a Split "
      "regex (behavior Isolated) and a ByteLevel without its own regex "
      "(Llama 3, Qwen2); other BPE variants are not supported"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const SplitPattern>> SplitPattern::Compile(
    const std::string& pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                                   pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                   &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return absl::InvalidArgumentError(
        absl::StrCat("the pre-tokenizer pattern does not compile at offset ",
                     offset, ": ", reinterpret_cast<const char*>(message)));
  }
  return std::shared_ptr<const SplitPattern>(new SplitPattern(code));
}

SplitPattern::~SplitPattern() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

std::vector<std::string> SplitPattern::Split(absl::string_view text) const {
  auto* pattern = static_cast<pcre2_code*>(code_);
  std::vector<std::string> pieces;
  pcre2_match_data* match =
      pcre2_match_data_create_from_pattern(pattern, nullptr);
  PCRE2_SIZE start = 0;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  while (start < text.size()) {
    // Invalid UTF-8 is matched byte for byte (NO_UTF_CHECK would be unsafe):
    // such text falls back to one piece per remaining run.
    const int found =
        pcre2_match(pattern, subject, text.size(), start, 0, match, nullptr);
    if (found < 0) {
      pieces.emplace_back(text.substr(start));
      break;
    }
    const PCRE2_SIZE* range = pcre2_get_ovector_pointer(match);
    // "Isolated": the text between two matches is a piece of its own.
    if (range[0] > start) {
      pieces.emplace_back(text.substr(start, range[0] - start));
    }
    if (range[1] == range[0]) {  // an empty match: the rest is one piece
      if (range[0] < text.size()) pieces.emplace_back(text.substr(range[0]));
      break;
    }
    pieces.emplace_back(text.substr(range[0], range[1] - range[0]));
    start = range[1];
  }
  pcre2_match_data_free(match);
  return pieces;
}

namespace {

// Compiled once; never freed (a function-local static, like the alphabet).
const SplitPattern& Gpt2SplitPattern() {
  static const std::shared_ptr<const SplitPattern>* pattern =
      new std::shared_ptr<const SplitPattern>(
          *SplitPattern::Compile(kGpt2Pattern));
  return **pattern;
}

}  // namespace

std::vector<std::string> PreTokenize(absl::string_view text) {
  return Gpt2SplitPattern().Split(text);
}

absl::StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromFolder(
    const std::string& path) {
  if (PathExists(path + "/vocab.json") && PathExists(path + "/merges.txt")) {
    return FromVocabAndMerges(path + "/vocab.json", path + "/merges.txt");
  }
  if (PathExists(path + "/tokenizer.json")) {
    return FromTokenizerJson(path + "/tokenizer.json");
  }
  if (PathExists(path) && path.size() > 5 &&
      path.compare(path.size() - 5, 5, ".json") == 0) {
    return FromTokenizerJson(path);
  }
  return absl::NotFoundError(absl::StrCat(
      path, ": no vocab.json + merges.txt or tokenizer.json (GPT-2 BPE)"));
}

absl::StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromVocabAndMerges(
    const std::string& vocab_json, const std::string& merges_txt) {
  std::unique_ptr<BpeTokenizer> tokenizer(new BpeTokenizer());
  METARM_ASSIGN_OR_RETURN(Json vocab, ReadJsonFile(vocab_json));
  if (!vocab.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(vocab_json, ": not a JSON object of token -> id"));
  }
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_json, ": token ", Json(token).dump(), " has id ",
                       id.dump(), "; ids are integers >= 0"));
    }
    tokenizer->vocab_[token] = id.get<int64_t>();
  }
  METARM_ASSIGN_OR_RETURN(std::string merges, ReadFile(merges_txt));
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(merges, '\n')) {
    ++line_number;
    if (line.empty() ||
        (line_number == 1 && line.substr(0, 9) == "#version:")) {
      continue;
    }
    std::vector<std::string> pair = absl::StrSplit(line, ' ');
    if (pair.size() != 2 || pair[0].empty() || pair[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(merges_txt, ":", line_number,
                       ": expected two tokens separated by one space"));
    }
    tokenizer->merge_rank_.emplace(std::make_pair(pair[0], pair[1]),
                                   tokenizer->merge_rank_.size());
  }
  METARM_RETURN_IF_ERROR(
      tokenizer->Finish(vocab_json, SpecialRoles(FolderOf(vocab_json))));
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromTokenizerJson(
    const std::string& path) {
  METARM_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
  const Json model = json.value("model", Json());
  if (!model.is_object() || model.value("type", std::string()) != "BPE" ||
      !model.contains("vocab") || !model["vocab"].is_object() ||
      !model.contains("merges") || !model["merges"].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": model must be {\"type\": \"BPE\", \"vocab\": {...}, "
                     "\"merges\": [...]}"));
  }
  METARM_ASSIGN_OR_RETURN(
      std::string pattern,
      SplitPatternOf(json.value("pre_tokenizer", Json()), path));
  std::unique_ptr<BpeTokenizer> tokenizer(new BpeTokenizer());
  if (pattern != kGpt2Pattern) {
    METARM_ASSIGN_OR_RETURN(tokenizer->pattern_, SplitPattern::Compile(pattern),
                            path, ": pre_tokenizer");
  }
  // Llama 3's: a piece that is a whole vocabulary entry is that token,
  // whatever the merges would make of it.
  tokenizer->ignore_merges_ = model.value("ignore_merges", false);
  for (const auto& [token, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": model.vocab: token ", Json(token).dump(),
                       " has id ", id.dump()));
    }
    tokenizer->vocab_[token] = id.get<int64_t>();
  }
  int index = 0;
  for (const Json& merge : model["merges"]) {
    std::vector<std::string> pair;
    if (merge.is_string()) {
      pair = absl::StrSplit(merge.get<std::string>(), ' ');
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      pair = {merge[0].get<std::string>(), merge[1].get<std::string>()};
    }
    if (pair.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": model.merges[", index, "]: expected \"a b\" or [a, b]"));
    }
    tokenizer->merge_rank_.emplace(std::make_pair(pair[0], pair[1]), index++);
  }
  for (const Json& added : json.value("added_tokens", Json::array())) {
    if (!added.is_object() || !added.contains("id") ||
        !added.contains("content")) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": added_tokens: entries need id and content"));
    }
    tokenizer->vocab_[added["content"].get<std::string>()] =
        added["id"].get<int64_t>();
    tokenizer->special_[added["content"].get<std::string>()] =
        added["id"].get<int64_t>();
  }
  METARM_RETURN_IF_ERROR(tokenizer->Finish(path, SpecialRoles(FolderOf(path))));
  return tokenizer;
}

absl::Status BpeTokenizer::Finish(
    const std::string& source,
    const std::map<std::string, std::string>& roles) {
  const ByteAlphabet& alphabet = Alphabet();
  for (int b = 0; b < 256; ++b) {
    if (vocab_.count(alphabet.of_byte[b]) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": the vocabulary lacks the byte token ",
                       Json(alphabet.of_byte[b]).dump(), " (byte ", b,
                       "); byte-level BPE needs all 256"));
    }
  }
  if (vocab_.count(kEndOfText) > 0) special_[kEndOfText] = vocab_[kEndOfText];
  for (const auto& [token, id] : vocab_) {
    vocab_size_ = std::max(vocab_size_, id + 1);
  }
  id_to_token_.assign(vocab_size_, "");
  is_special_.assign(vocab_size_, false);
  for (const auto& [token, id] : vocab_) id_to_token_[id] = token;
  for (const auto& [token, id] : special_) is_special_[id] = true;
  auto role = [&](const char* name, int64_t* id) -> absl::Status {
    auto it = roles.find(name);
    const std::string content = it != roles.end() ? it->second : kEndOfText;
    auto found = vocab_.find(content);
    if (found == vocab_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": no token ", Json(content).dump(), " for ",
                       name, " (set it in tokenizer_config.json)"));
    }
    *id = found->second;
    is_special_[*id] = true;
    special_[content] = *id;
    return absl::OkStatus();
  };
  absl::Status status = role("bos_token", &bos_id_);
  if (status.ok()) status = role("eos_token", &eos_id_);
  if (status.ok() && roles.count("pad_token") > 0) {
    status = role("pad_token", &pad_id_);
  } else if (status.ok()) {
    pad_id_ = eos_id_;  // GPT-2 has no padding token; the mask hides it
  }
  return status;
}

void BpeTokenizer::EncodePiece(const std::string& piece,
                               TokenSequence& out) const {
  const ByteAlphabet& alphabet = Alphabet();
  if (ignore_merges_) {
    std::string mapped;
    for (unsigned char byte : piece) mapped += alphabet.of_byte[byte];
    auto whole = vocab_.find(mapped);
    if (whole != vocab_.end()) {
      out.push_back(whole->second);
      return;
    }
  }
  std::vector<std::string> symbols;
  for (unsigned char byte : piece) symbols.push_back(alphabet.of_byte[byte]);
  // Merge the adjacent pair of lowest rank until no pair has one.
  while (symbols.size() > 1) {
    int64_t best_rank = std::numeric_limits<int64_t>::max();
    size_t best = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = merge_rank_.find({symbols[i], symbols[i + 1]});
      if (it != merge_rank_.end() && it->second < best_rank) {
        best_rank = it->second;
        best = i;
      }
    }
    if (best_rank == std::numeric_limits<int64_t>::max()) break;
    const std::string first = symbols[best], second = symbols[best + 1];
    std::vector<std::string> merged;
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (i + 1 < symbols.size() && symbols[i] == first &&
          symbols[i + 1] == second) {
        merged.push_back(first + second);
        ++i;
      } else {
        merged.push_back(symbols[i]);
      }
    }
    symbols = std::move(merged);
  }
  for (const std::string& symbol : symbols) {
    auto it = vocab_.find(symbol);
    if (it != vocab_.end()) {
      out.push_back(it->second);
    } else {
      // A merge whose result the vocabulary lacks: fall back to its bytes.
      for (const std::string& c : Characters(symbol))
        out.push_back(vocab_.at(c));
    }
  }
}

TokenSequence BpeTokenizer::Encode(absl::string_view text) const {
  TokenSequence out;
  size_t start = 0;
  while (start <= text.size()) {
    // The next special token in the text, if any.
    size_t next = absl::string_view::npos;
    const std::pair<const std::string, int64_t>* special = nullptr;
    for (const auto& entry : special_) {
      const size_t at = text.find(entry.first, start);
      if (at != absl::string_view::npos && at < next) {
        next = at;
        special = &entry;
      }
    }
    const absl::string_view plain = text.substr(
        start, next == absl::string_view::npos ? text.npos : next - start);
    const SplitPattern& pattern = pattern_ ? *pattern_ : Gpt2SplitPattern();
    for (const std::string& piece : pattern.Split(plain)) {
      EncodePiece(piece, out);
    }
    if (special == nullptr) break;
    out.push_back(special->second);
    start = next + special->first.size();
  }
  return out;
}

std::string BpeTokenizer::Decode(const TokenSequence& tokens) const {
  const ByteAlphabet& alphabet = Alphabet();
  std::string text;
  for (int64_t id : tokens) {
    if (id < 0 || id >= vocab_size_ || is_special_[id]) continue;
    for (const std::string& c : Characters(id_to_token_[id])) {
      auto it = alphabet.byte_of.find(c);
      if (it != alphabet.byte_of.end())
        text.push_back(static_cast<char>(it->second));
    }
  }
  return text;
}

}  // namespace metarm
