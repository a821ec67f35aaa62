// A testbed gold reward whose correctness term is a frozen reward network
// (task.gold_network): the letter task's prompts and demonstrations, and
//   network = min(1, scale · s(x, y) + offset)
//   r*(x, y) = max(−1, (1 − w) · network + w · match
//                      − length − foreign − repetition)
// where s is the network's score, match the formula's position match, w
// the formula's weight (0 unless gold.json sets "formula_weight": the part
// of the gold the reward model cannot learn), and length, foreign and
// repetition the letter task's penalties (tasks/letter_tasks.h). The network
// learned from demonstrations' slips only, so it cannot be trusted on what SFT
// never writes; the penalties keep the formula's traps there: too long,
// off-alphabet, one letter over and over. The position match of the
// formula asks a reward model to align the response with the ideal one
// letter by letter, which the reproduction's 2-layer model learns only in
// part from preference pairs; a network of that model's own kind it can
// represent (docs/testbed.md, "A gold reward the reward model can learn").
//
//   METARM_ASSIGN_OR_RETURN(std::unique_ptr<Task> gold,
//       MakeNetworkGoldTask(std::move(sort), "data/gold/sort", tokenizer,
//                           limits));
//   double r = gold->GoldReward("sort:dbca=", "abcd");
#ifndef METARM_RLHF_NETWORK_GOLD_H_
#define METARM_RLHF_NETWORK_GOLD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "reward/reward_data.h"
#include "tasks/chat_tokenizer.h"
#include "tasks/task.h"

namespace metarm {

// The affine map of the network's score onto the position match's scale,
// and the formula's weight, from the folder's gold.json ({"scale": a,
// "offset": b, "formula_weight": w}, a > 0, w in [0, 1], w optional).
struct GoldCalibration {
  double scale = 1;
  double offset = 0;
  double formula_weight = 0;
};

// Reads `folder`/gold.json; errors name task.gold_network and the file.
absl::StatusOr<GoldCalibration> ReadGoldCalibration(const std::string& folder);

// `letter_task` (sort or reverse) judged by the network in `folder`, which
// reads the text with `tokenizer` cut to `limits` as the proxy is. The
// network runs on the CPU. InvalidArgument when `letter_task` is not a
// letter task; the folder's errors as LoadJudgeModel's and
// ReadGoldCalibration's.
absl::StatusOr<std::unique_ptr<Task>> MakeNetworkGoldTask(
    std::unique_ptr<Task> letter_task, const std::string& folder,
    const ChatTokenizer& tokenizer, const SequenceLimits& limits);

}  // namespace metarm

#endif  // METARM_RLHF_NETWORK_GOLD_H_
