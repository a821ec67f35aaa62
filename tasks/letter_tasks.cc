#include "tasks/letter_tasks.h"

#include <algorithm>
#include <cstdlib>

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

}  // namespace

double LetterGoldReward(const std::string& ideal, const std::string& response) {
  if (ideal.empty()) return -1.0;
  const double n = static_cast<double>(ideal.size());
  int matches = 0;
  for (size_t i = 0; i < ideal.size() && i < response.size(); ++i) {
    matches += response[i] == ideal[i];
  }
  const double match = matches / n;
  const double length =
      0.25 * std::abs(static_cast<double>(response.size()) - n) / n;
  const int outside = static_cast<int>(std::count_if(
      response.begin(), response.end(), [](char c) { return !InAlphabet(c); }));
  const double foreign =
      response.empty() ? 0.0
                       : 0.5 * outside / static_cast<double>(response.size());
  return std::max(-1.0, match - length - foreign);
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
  return LetterGoldReward(IdealResponse(prompt), response);
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
