// Where an RLHF run's text comes from: the testbed's task (prompts drawn from
// it, demonstrations and gold-labelled pairs made from it) or the user's
// files (task.name "preference_file": pairs, prompts, demonstrations, a
// held-out split). The round's steps ask this for prompts and
// demonstrations and never learn which it is.
//
//   std::unique_ptr<RlhfData> data = TestbedData(task);
//   METARM_ASSIGN_OR_RETURN(std::unique_ptr<RlhfData> data,
//                           LoadFileData(job, tokenizer));
//   std::vector<std::string> prompts = data->TrainPrompts(64, seed);
#ifndef METARM_RLHF_RUN_DATA_H_
#define METARM_RLHF_RUN_DATA_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "proto/job.pb.h"
#include "tasks/prompt_data.h"
#include "tasks/task.h"
#include "tasks/tokenizer.h"
#include "training/reward_training.h"
#include "util/random.h"

namespace metarm {

class RlhfData {
 public:
  virtual ~RlhfData() = default;
  // n prompts for PPO rollouts and meta sets, drawn with `seed`.
  virtual std::vector<std::string> TrainPrompts(int64_t n,
                                                uint64_t seed) const = 0;
  // n held-out prompts for evaluation, drawn with `seed`.
  virtual std::vector<std::string> HeldOutPrompts(int64_t n,
                                                  uint64_t seed) const = 0;
  // An SFT demonstration drawn with `rng`.
  virtual Demonstration SampleDemonstration(Rng& rng) const = 0;
  // The testbed's task, whose gold reward judges; null for files.
  virtual const Task* gold() const = 0;
  // The pairs read from files (train and held out), or nullopt where the
  // round-0 policy's samples are labelled instead (the testbed).
  virtual std::optional<RewardData> GivenPairs() const = 0;
  // What was read and what the prompt fit rule did, for the logs; empty for
  // the testbed.
  virtual nlohmann::json Summary() const = 0;
};

std::unique_ptr<RlhfData> TestbedData(const Task& task);

// Reads every file the job's task names, through the fit rule
// (tasks/prompt_data.h). Errors name the file, the line and the reason;
// every file with a problem is reported (one line each), not only the first.
absl::StatusOr<std::unique_ptr<RlhfData>> LoadFileData(
    const Job& job, const Tokenizer& tokenizer);

}  // namespace metarm

#endif  // METARM_RLHF_RUN_DATA_H_
