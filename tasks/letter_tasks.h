// The testbed's two tasks, both on strings of the letters a-h:
//   sort     "sort:dbca="  ideal response "abcd"
//   reverse  "rev:dbca="   ideal response "acbd"
// Prompts hold 3 to 8 letters. The gold reward (equal for both, against the
// task's ideal response t) gives graded partial credit and judges three
// aspects of a response y:
//   match   = (1/|t|) Σ_i [y_i = t_i]                  correctness, by position
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

// Shared by both tasks: prompt format, gold reward, demonstrations.
class LetterTask : public Task {
 public:
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
};

class SortTask : public LetterTask {
 public:
  std::string name() const override { return "sort"; }

 protected:
  std::string prefix() const override { return "sort:"; }
  std::string Transform(const std::string& letters) const override;
};

class ReverseTask : public LetterTask {
 public:
  std::string name() const override { return "reverse"; }

 protected:
  std::string prefix() const override { return "rev:"; }
  std::string Transform(const std::string& letters) const override;
};

// The gold reward formula above, for an ideal response `ideal`.
double LetterGoldReward(const std::string& ideal, const std::string& response);

}  // namespace metarm

#endif  // METARM_TASKS_LETTER_TASKS_H_
