#include "rlhf/round_zero.h"

#include <iostream>

#include "absl/strings/str_format.h"
#include "optim/data_parallel_optimizer.h"
#include "rlhf/sft.h"
#include "rollout/preference_generator.h"
#include "training/job_options.h"
#include "util/random.h"
#include "util/status_macros.h"

namespace metarm {

std::unique_ptr<DataParallelOptimizer> MakeSftOptimizer(const RunInputs& in,
                                                        Communicator& learners,
                                                        LanguageModel& policy) {
  const SftSpec& spec = in.job.sft();
  if (spec.steps() == 0) return nullptr;
  return MakeModelAdamW(policy->parameters(),
                        torch::optim::AdamWOptions(spec.learning_rate()),
                        learners, in.job.topology().shard_optimizer_state());
}

absl::Status RunSft(const RunInputs& in, Communicator& learners,
                    LanguageModel& policy, DataParallelOptimizer* optimizer,
                    int first_step, RunOutput& output,
                    const SftStepHook& after_step) {
  const SftSpec& spec = in.job.sft();
  if (spec.steps() == 0) {
    if (learners.rank() == 0) {
      std::cout << "round 0: no SFT (sft.steps: 0): the policy as loaded is "
                   "the SFT policy and the reference\n"
                << std::flush;
    }
    return absl::OkStatus();
  }
  const SftOptions options{
      LrScheduleOf(spec.schedule(), spec.learning_rate(), spec.steps()),
      spec.schedule().max_grad_norm(), spec.micro_batch_size()};
  const int steps = static_cast<int>(spec.steps());
  double loss = 0;
  double largest_norm = 0;
  for (int step = first_step; step < steps; ++step) {
    Rng rng(in.streams.Seed(Stream::kSftData, step));
    std::vector<std::string> prompts, demonstrations;
    for (uint32_t i = 0; i < spec.batch_size(); ++i) {
      Demonstration demonstration = in.data.SampleDemonstration(rng);
      prompts.push_back(std::move(demonstration.prompt));
      demonstrations.push_back(std::move(demonstration.response));
    }
    auto [begin, count] =
        ShardRange(spec.batch_size(), learners.rank(), learners.size());
    std::vector<std::string> my_prompts(prompts.begin() + begin,
                                        prompts.begin() + begin + count);
    std::vector<std::string> my_demos(demonstrations.begin() + begin,
                                      demonstrations.begin() + begin + count);
    METARM_ASSIGN_OR_RETURN(
        SftStepResult result,
        SftStep(policy, *optimizer,
                MakeSftBatch(my_prompts, my_demos, in.limits, in.tokenizer),
                learners, options, step),
        "SFT step ", step + 1, " of ", spec.steps());
    loss = result.loss;
    largest_norm = std::max(largest_norm, result.step.grad_norm);
    if (output.log != nullptr) {
      METARM_RETURN_IF_ERROR(output.log->Append(
          kSftStepLog, {{"step", step + 1},
                        {"loss", result.loss},
                        {"learning_rate", result.step.learning_rate},
                        {"grad_norm", result.step.grad_norm}}));
    }
    if (step + 1 < steps) METARM_RETURN_IF_ERROR(after_step(step + 1));
  }
  if (learners.rank() == 0) {
    // After a resume, the largest norm is that of the steps this run made.
    const std::string resumed =
        first_step > 0
            ? absl::StrFormat(" (%d after resuming)", steps - first_step)
            : "";
    std::cout << absl::StrFormat(
                     "round 0 (SFT): %d steps%s, loss %.3f, largest gradient "
                     "norm %.3g (%.0f s)\n",
                     spec.steps(), resumed, loss, largest_norm,
                     SecondsSince(output.start))
              << std::flush;
  }
  return absl::OkStatus();
}

absl::StatusOr<RewardData> MakePreferenceData(const RunInputs& in,
                                              LanguageModel& policy) {
  if (std::optional<RewardData> given = in.data.GivenPairs()) return *given;
  const TaskSpec& task = in.job.task();
  const Task& gold = *in.data.gold();
  // split 0: the training pairs, 1: the held-out ones; each from its own
  // prompts, sample and label streams, so that the held-out pairs and their
  // labels do not depend on how many training pairs there are.
  auto make = [&](int64_t n, uint64_t split,
                  std::vector<PreferencePair>& pairs) -> absl::Status {
    Rng labels(in.streams.Seed(Stream::kPreferenceLabels, split));
    std::vector<std::string> prompts = in.data.TrainPrompts(
        n, in.streams.Seed(Stream::kPreferencePrompts, split));
    METARM_ASSIGN_OR_RETURN(
        auto samples,
        SampleResponses(policy, prompts, 2, in.generation,
                        in.streams.Seed(Stream::kPreferenceSamples, split),
                        in.tokenizer),
        "sampling the original pairs");
    pairs = LabelPairs(gold, prompts, samples, task.label_temperature(), labels,
                       in.tokenizer);
    return absl::OkStatus();
  };
  RewardData data;
  METARM_RETURN_IF_ERROR(make(task.num_preference_pairs(), 0, data.train));
  METARM_RETURN_IF_ERROR(make(task.num_eval_prompts(), 1, data.eval));
  return data;
}

}  // namespace metarm
