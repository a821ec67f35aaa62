#include "tasks/letter_tasks.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <vector>

#include "absl/strings/match.h"

namespace metarm {
namespace {

constexpr char kFirstLetter = 'a';
constexpr int kAlphabet = 8;  // a-h

bool InAlphabet(char c) {
  return c >= kFirstLetter && c < kFirstLetter + kAlphabet;
}

char RandomLetter(Rng& rng) {
  return static_cast<char>(kFirstLetter + rng.Below(kAlphabet));
}

// One random edit: swap two neighbours, repeat a letter, drop a letter, or
// replace a letter.
void Corrupt(std::string& text, Rng& rng) {
  if (text.empty()) return;
  const size_t i = rng.Below(text.size());
  switch (rng.Below(4)) {
    case 0:
      if (text.size() > 1) std::swap(text[i], text[(i + 1) % text.size()]);
      break;
    case 1:
      text.insert(text.begin() + i, text[i]);
      break;
    case 2:
      if (text.size() > 1) text.erase(text.begin() + i);
      break;
    default:
      text[i] = RandomLetter(rng);
      break;
  }
}

// Multiset F1 = 2|A ∩ B| / (|A| + |B|) of two sorted multisets.
double MultisetF1(const std::vector<std::string>& a,
                  const std::vector<std::string>& b) {
  std::vector<std::string> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(),
                        std::back_inserter(common));
  return 2.0 * common.size() / static_cast<double>(a.size() + b.size());
}

// The sorted n-grams of ^text$ for n = 1 (letters, marks left out) or 2.
std::vector<std::string> SortedNgrams(const std::string& text, int n) {
  const std::string marked = n == 1 ? text : "^" + text + "$";
  std::vector<std::string> grams;
  for (size_t i = 0; i + n <= marked.size(); ++i) {
    grams.push_back(marked.substr(i, n));
  }
  std::sort(grams.begin(), grams.end());
  return grams;
}

// ½ F1(letters) + ½ F1(bigrams with start and end marks).
double NgramMatch(const std::string& ideal, const std::string& response) {
  return 0.5 * MultisetF1(SortedNgrams(response, 1), SortedNgrams(ideal, 1)) +
         0.5 * MultisetF1(SortedNgrams(response, 2), SortedNgrams(ideal, 2));
}

// The length of the longest run of one character in `text`.
int LongestRun(const std::string& text) {
  int longest = 0;
  for (size_t i = 0, run = 0; i < text.size(); ++i) {
    run = i > 0 && text[i] == text[i - 1] ? run + 1 : 1;
    longest = std::max(longest, static_cast<int>(run));
  }
  return longest;
}

}  // namespace

double PositionMatch(const std::string& ideal, const std::string& response) {
  int matches = 0;
  for (size_t i = 0; i < ideal.size() && i < response.size(); ++i) {
    matches += response[i] == ideal[i];
  }
  return matches / static_cast<double>(ideal.size());
}

double LetterPenalties(const std::string& ideal, const std::string& response) {
  const double n = static_cast<double>(ideal.size());
  const double length =
      0.25 * std::abs(static_cast<double>(response.size()) - n) / n;
  const int outside = static_cast<int>(std::count_if(
      response.begin(), response.end(), [](char c) { return !InAlphabet(c); }));
  const double foreign =
      response.empty() ? 0.0
                       : 0.5 * outside / static_cast<double>(response.size());
  return length + foreign;
}

double LetterRepetition(const std::string& ideal, const std::string& response) {
  const int excess = LongestRun(response) - LongestRun(ideal) - 1;
  return std::max(0, excess) / static_cast<double>(ideal.size());
}

double LetterGoldReward(const std::string& ideal, const std::string& response,
                        LetterMatch match_kind) {
  if (ideal.empty()) return -1.0;
  const double match = match_kind == LetterMatch::kPosition
                           ? PositionMatch(ideal, response)
                           : NgramMatch(ideal, response);
  return std::max(-1.0, match - LetterPenalties(ideal, response));
}

std::string LetterTask::SamplePrompt(Rng& rng) const {
  const int64_t count = rng.Between(kMinLetters, kMaxLetters);
  std::string letters;
  for (int64_t i = 0; i < count; ++i) letters.push_back(RandomLetter(rng));
  return prefix() + letters + "=";
}

std::string LetterTask::IdealResponse(const std::string& prompt) const {
  if (!absl::StartsWith(prompt, prefix()) || !absl::EndsWith(prompt, "=")) {
    return "";
  }
  const std::string letters =
      prompt.substr(prefix().size(), prompt.size() - prefix().size() - 1);
  if (letters.empty() ||
      !std::all_of(letters.begin(), letters.end(), InAlphabet)) {
    return "";
  }
  return Transform(letters);
}

double LetterTask::GoldReward(const std::string& prompt,
                              const std::string& response) const {
  return LetterGoldReward(IdealResponse(prompt), response, match_);
}

std::string LetterTask::gold_suffix() const {
  return match_ == LetterMatch::kNgram ? "_ngram" : "";
}

std::string LetterTask::Demonstration(const std::string& prompt,
                                      Rng& rng) const {
  std::string demonstration = IdealResponse(prompt);
  if (rng.Uniform() < kCleanDemonstration) return demonstration;
  const int64_t edits = rng.Between(1, 2);
  for (int64_t i = 0; i < edits; ++i) Corrupt(demonstration, rng);
  return demonstration;
}

std::string SortTask::Transform(const std::string& letters) const {
  std::string sorted = letters;
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

std::string ReverseTask::Transform(const std::string& letters) const {
  return std::string(letters.rbegin(), letters.rend());
}

}  // namespace metarm
