// The testbed's tasks, all on strings of the letters a-h:
//   sort, sort_ngram        "sort:dbca="  ideal response "abcd"
//   reverse, reverse_ngram  "rev:dbca="   ideal response "acbd"
// Prompts hold 3 to 8 letters. The gold reward (against the task's ideal
// response t) gives graded partial credit and judges three aspects of a
// response y; the tasks differ only in how correctness is measured:
//   POSITION (sort, reverse): match = (1/|t|) Σ_i [y_i = t_i]
//   NGRAM (sort_ngram, reverse_ngram):
//     match = ½ F1(letters(y), letters(t)) + ½ F1(bigrams(y), bigrams(t))
//     with multiset F1(A, B) = 2|A ∩ B| / (|A| + |B|) and the bigrams of
//     ^y$ (start and end marks included, so the first and last letters
//     count). Each term is a sum of local checks a small reward model can
//     read off the prompt and response; the position match needs the whole
//     alignment, which a 2-layer model learns only in part from preference
//     bits (docs/testbed.md, "Why the reward model stops near 0.7").
//   length  = 0.25 · | |y| − |t| | / |t|                 too long or too short
//   foreign = 0.5 · (characters of y outside a-h) / |y|  off-alphabet output
//   r*(x, y) = max(−1, match − length − foreign)          (1 for y = t)
// A proxy reward model that learned "letters of the prompt in the right order"
// from SFT samples can be fooled by what SFT rarely writes (long runs of one
// letter, responses longer than the prompt), which is where over-optimisation
// shows.
#ifndef METARM_TASKS_LETTER_TASKS_H_
#define METARM_TASKS_LETTER_TASKS_H_

#include <string>

#include "tasks/task.h"

namespace metarm {

// How a letter task's gold reward measures correctness (above).
enum class LetterMatch { kPosition, kNgram };

// Shared by the letter tasks: prompt format, gold reward, demonstrations.
class LetterTask : public Task {
 public:
  explicit LetterTask(LetterMatch match) : match_(match) {}

  static constexpr int kMinLetters = 3;
  static constexpr int kMaxLetters = 8;
  // Probability that a demonstration is the ideal response, uncorrupted.
  static constexpr double kCleanDemonstration = 0.35;

  std::string SamplePrompt(Rng& rng) const override;
  double GoldReward(const std::string& prompt,
                    const std::string& response) const override;
  std::string Demonstration(const std::string& prompt, Rng& rng) const override;

  // The ideal response to `prompt`; empty when the prompt is not this task's.
  std::string IdealResponse(const std::string& prompt) const;

 protected:
  // The prompt's prefix ("sort:") and the transformation of its letters.
  virtual std::string prefix() const = 0;
  virtual std::string Transform(const std::string& letters) const = 0;
  // The suffix of the task's name that names its gold: "" or "_ngram".
  std::string gold_suffix() const;

 private:
  LetterMatch match_;
};

class SortTask : public LetterTask {
 public:
  explicit SortTask(LetterMatch match = LetterMatch::kPosition)
      : LetterTask(match) {}
  std::string name() const override { return "sort" + gold_suffix(); }

 protected:
  std::string prefix() const override { return "sort:"; }
  std::string Transform(const std::string& letters) const override;
};

class ReverseTask : public LetterTask {
 public:
  explicit ReverseTask(LetterMatch match = LetterMatch::kPosition)
      : LetterTask(match) {}
  std::string name() const override { return "reverse" + gold_suffix(); }

 protected:
  std::string prefix() const override { return "rev:"; }
  std::string Transform(const std::string& letters) const override;
};

// The POSITION match above, (1/|t|) Σ_i [y_i = t_i], for a non-empty
// `ideal`.
double PositionMatch(const std::string& ideal, const std::string& response);

// length + foreign above, for a non-empty ideal response `ideal`.
double LetterPenalties(const std::string& ideal, const std::string& response);

// The gold network's repetition penalty (rlhf/network_gold.h), for a
// non-empty `ideal`: (longest run of one letter in the response − the
// ideal's longest − 1, at least 0) / |t|. One doubled letter, a
// demonstration's usual slip, costs nothing; "aaaa" for "abcd" costs 0.5.
// The formula needs none: its position match already pays for a run.
double LetterRepetition(const std::string& ideal, const std::string& response);

// The gold reward formula above, for an ideal response `ideal`.
double LetterGoldReward(const std::string& ideal, const std::string& response,
                        LetterMatch match = LetterMatch::kPosition);

}  // namespace metarm

#endif  // METARM_TASKS_LETTER_TASKS_H_
