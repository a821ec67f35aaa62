#include "rlhf/round_zero.h"

#include <ATen/CPUGeneratorImpl.h>

#include <iostream>

#include "absl/strings/str_format.h"
#include "optim/data_parallel_optimizer.h"
#include "rlhf/sft.h"
#include "rollout/preference_generator.h"
#include "util/random.h"
#include "util/status_macros.h"

namespace metarm {

absl::Status RunSft(const RunInputs& in, Communicator& learners,
                    LanguageModel& policy, RunOutput& output) {
  const SftSpec& spec = in.job.sft();
  std::unique_ptr<DataParallelOptimizer> optimizer = MakeModelAdamW(
      policy->parameters(), torch::optim::AdamWOptions(spec.learning_rate()),
      learners, in.job.topology().shard_optimizer_state());
  double loss = 0;
  for (uint32_t step = 0; step < spec.steps(); ++step) {
    Rng rng(in.streams.Seed(Stream::kSftData, step));
    std::vector<std::string> prompts, demonstrations;
    for (uint32_t i = 0; i < spec.batch_size(); ++i) {
      prompts.push_back(in.task.SamplePrompt(rng));
      demonstrations.push_back(in.task.Demonstration(prompts.back(), rng));
    }
    auto [begin, count] =
        ShardRange(spec.batch_size(), learners.rank(), learners.size());
    std::vector<std::string> my_prompts(prompts.begin() + begin,
                                        prompts.begin() + begin + count);
    std::vector<std::string> my_demos(demonstrations.begin() + begin,
                                      demonstrations.begin() + begin + count);
    METARM_ASSIGN_OR_RETURN(
        loss,
        SftStep(policy, *optimizer,
                MakeSftBatch(my_prompts, my_demos, in.tokenizer), learners),
        "SFT step ", step + 1, " of ", spec.steps());
  }
  if (learners.rank() == 0) {
    std::cout << absl::StrFormat(
                     "round 0 (SFT): %d steps, loss %.3f (%.0f s)\n",
                     spec.steps(), loss, SecondsSince(output.start))
              << std::flush;
  }
  return absl::OkStatus();
}

RewardData MakePreferenceData(const RunInputs& in, LanguageModel& policy) {
  const TaskSpec& task = in.job.task();
  at::Generator generator = at::detail::createCPUGenerator(
      in.streams.Seed(Stream::kPreferenceSamples));
  Rng labels(in.streams.Seed(Stream::kPreferenceLabels));
  auto make = [&](int64_t n, uint64_t split) {
    std::vector<std::string> prompts = SamplePrompts(
        in.task, n, in.streams.Seed(Stream::kPreferencePrompts, split));
    auto samples = SampleResponses(policy, prompts, 2, in.sampling, generator,
                                   in.tokenizer);
    return LabelPairs(in.task, prompts, samples, task.label_temperature(),
                      labels, in.tokenizer);
  };
  RewardData data;
  data.train = make(task.num_preference_pairs(), 0);
  data.eval = make(task.num_eval_prompts(), 1);
  return data;
}

}  // namespace metarm
