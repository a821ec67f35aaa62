// Who judges an RLHF run's evaluation: the testbed's gold reward, or a
// frozen judge reward model (eval.judge) standing in for the papers' human
// and GPT-4 judges, as Gao et al. (2022) let a large "gold" reward model
// judge policies trained against a smaller proxy.
//
//   METARM_ASSIGN_OR_RETURN(std::unique_ptr<Judge> judge,
//       LoadJudgeModel("judge_hf/", "eval.judge", tokenizer, limits,
//                      torch::kCPU));
//   std::vector<std::vector<double>> scores = judge->Score(prompts, samples);
#ifndef METARM_RLHF_JUDGE_H_
#define METARM_RLHF_JUDGE_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reward/reward_data.h"
#include "tasks/chat_tokenizer.h"
#include "tasks/task.h"

namespace metarm {

class Judge {
 public:
  virtual ~Judge() = default;
  // The metrics' prefix: "gold" (gold_reward_mean) or "judge".
  virtual std::string name() const = 0;
  // The score of every response to every prompt: [prompts][responses].
  virtual std::vector<std::vector<double>> Score(
      const std::vector<std::string>& prompts,
      const std::vector<std::vector<std::string>>& responses) = 0;
};

// The testbed task's gold reward r*(x, y).
std::unique_ptr<Judge> MakeGoldJudge(const Task& task);

// A judge reward model: a Hugging Face folder with a "score" head, or metarm
// weights (a reward_model.pt). It reads the text with the tokenizer files in
// its folder when it has them (and the job's chat template); otherwise with
// the job's tokenizer, and then its vocabulary must be exactly that
// tokenizer's: a different size means a different tokenizer. Prompt and
// response are cut to `limits` as for the proxy. Errors name
// the file and `field`, the job field that named it.
absl::StatusOr<std::unique_ptr<Judge>> LoadJudgeModel(
    const std::string& path, const std::string& field,
    const ChatTokenizer& job_tokenizer, const SequenceLimits& limits,
    const torch::Device& device);

}  // namespace metarm

#endif  // METARM_RLHF_JUDGE_H_
