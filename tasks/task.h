// A task of the gold-reward testbed: a prompt distribution, a deterministic
// gold reward r*(x, y), and noisy demonstrations for supervised fine-tuning.
//
//   absl::StatusOr<std::unique_ptr<Task>> task = MakeTask("sort");
//   Rng rng(seed);
//   std::string prompt = (*task)->SamplePrompt(rng);       // "sort:dbca="
//   double gold = (*task)->GoldReward(prompt, "abcd");      // 1.0
//   std::string demo = (*task)->Demonstration(prompt, rng); // "abdc", say
//
// The gold reward stands in for the human (or GPT-4) judge: it labels the
// preference pairs and judges the policy, so the distribution shift MetaRM is
// about can be measured exactly.
#ifndef METARM_TASKS_TASK_H_
#define METARM_TASKS_TASK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "util/random.h"

namespace metarm {

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // Draws a prompt; deterministic in `rng`.
  virtual std::string SamplePrompt(Rng& rng) const = 0;
  // r*(x, y) for a prompt this task produced; at most 1 (a perfect response).
  virtual double GoldReward(const std::string& prompt,
                            const std::string& response) const = 0;
  // A demonstration for supervised fine-tuning: the ideal response, often
  // corrupted, so that the SFT policy is decent but far from optimal.
  virtual std::string Demonstration(const std::string& prompt,
                                    Rng& rng) const = 0;
};

// "sort" or "reverse"; NotFound for another name.
absl::StatusOr<std::unique_ptr<Task>> MakeTask(const std::string& name);

// The testbed task names.
std::vector<std::string> TestbedTaskNames();

}  // namespace metarm

#endif  // METARM_TASKS_TASK_H_
