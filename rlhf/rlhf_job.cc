#include "rlhf/rlhf_job.h"

#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "comm/mpi_environment.h"
#include "comm/status_consensus.h"
#include "model/weights_io.h"
#include "rlhf/checkpoint.h"
#include "rlhf/evaluation.h"
#include "rlhf/judge.h"
#include "rlhf/network_gold.h"
#include "rlhf/ppo_iterations.h"
#include "rlhf/reward_round.h"
#include "rlhf/round_zero.h"
#include "rlhf/run_data.h"
#include "rlhf/run_parts.h"
#include "rlhf/weight_transfer.h"
#include "tasks/task_registry.h"
#include "training/job_options.h"
#include "training/model_factory.h"
#include "util/file.h"
#include "util/status_macros.h"
#include "util/stop_signals.h"
#include "util/test_crash.h"

namespace metarm {
namespace {

// --- Set-up, the same on every rank -----------------------------------------

GenerationSettings GenerationOf(const Job& job,
                                const ChatTokenizer& tokenizer) {
  GenerationSettings settings;
  SamplingOptions& options = settings.sampling;
  options.temperature = job.ppo().temperature();
  options.top_p = job.ppo().top_p();
  options.max_new_tokens = job.ppo().max_new_tokens();
  options.eos_id = tokenizer.eos_id();
  options.pad_id = tokenizer.pad_id();
  options.stop_ids = tokenizer.stop_ids();
  const GenerationSpec& spec = job.generation();
  settings.engine.max_sequences = spec.max_sequences();
  settings.engine.block_tokens = spec.kv_block_tokens();
  settings.engine.pool_blocks = spec.kv_pool_blocks();
  settings.engine.share_prompts = spec.share_prompts();
  return settings;
}

// Collective over the world: the weight-sync group (learner 0 and the
// rollout workers that are not learners; a COLOCATED rank's rollout uses its
// own learner's models) and the rollout workers' world ranks.
absl::Status ConnectRanks(const Job& job, RankGroups& ranks) {
  const RankRoles& roles = ranks.groups.roles;
  const bool member =
      roles.learner_index == 0 || (roles.rollout && !roles.learner);
  METARM_ASSIGN_OR_RETURN(
      ranks.weight_sync,
      ranks.groups.SplitWorld(
          member ? 0 : MpiCommunicator::kNotInGroup,
          roles.learner_index == 0 ? -1 : roles.rollout_index, "weight_sync"));
  std::vector<RankRoles> all =
      AssignRoles(job.topology(), ranks.groups.world->size());
  ranks.rollout_roots.assign(job.topology().rollout_ranks(), -1);
  for (int rank = 0; rank < static_cast<int>(all.size()); ++rank) {
    if (all[rank].rollout) ranks.rollout_roots[all[rank].rollout_index] = rank;
  }
  return absl::OkStatus();
}

// The models, the same on every rank: initialised on the CPU from the seeds
// (or a pretrained folder), then moved to this rank's device (optimizers are
// made after the move). The reference is frozen and only ever scores.
absl::Status BuildModels(const Job& job, const Tokenizer& tokenizer,
                         const SequenceLimits& limits, const RankGroups& ranks,
                         RlhfModels& models) {
  const RandomStreams streams(job.seed(), job.arm_seed());
  METARM_ASSIGN_OR_RETURN(
      TransformerConfig policy,
      ModelConfig(job.policy(), "policy", tokenizer, limits));
  METARM_ASSIGN_OR_RETURN(
      TransformerConfig reward,
      ModelConfig(job.reward_model(), "reward_model", tokenizer, limits));
  reward = ForRewardTraining(job, reward);
  torch::manual_seed(streams.Seed(Stream::kPolicyInit));
  models.policy = LanguageModel(policy);
  METARM_RETURN_IF_ERROR(
      LoadPretrained(*models.policy, policy, job.policy(), "policy"));
  models.reference = LanguageModel(policy);
  models.rollout_policy =
      ranks.learner() && ranks.rollout() && job.ppo().max_staleness() > 0
          ? LanguageModel(policy)
          : models.policy;
  torch::manual_seed(streams.Seed(Stream::kRewardInit));
  models.reward_model = ScalarModel(reward);
  METARM_RETURN_IF_ERROR(LoadPretrained(*models.reward_model, reward,
                                        job.reward_model(), "reward_model"));
  for (auto& p : models.reference->parameters()) p.set_requires_grad(false);
  models.reference->eval();
  models.policy->to(ranks.device());
  models.reference->to(ranks.device());
  models.rollout_policy->to(ranks.device());
  models.reward_model->to(ranks.device());
  return absl::OkStatus();
}

// Learner 0's judge: the testbed's gold reward, eval.judge's model, or none.
absl::StatusOr<std::unique_ptr<Judge>> MakeJudge(const Job& job,
                                                 const Task* task,
                                                 const ChatTokenizer& tokenizer,
                                                 const SequenceLimits& limits,
                                                 const torch::Device& device) {
  if (task != nullptr) return MakeGoldJudge(*task);
  if (job.eval().judge().empty()) return std::unique_ptr<Judge>();
  return LoadJudgeModel(job.eval().judge(), "eval.judge", tokenizer, limits,
                        device);
}

// --- The round's steps ------------------------------------------------------

// The critic starts from the first round's reward model, and trains as the
// policy does (activation checkpointing, precision).
std::unique_ptr<PpoLearner> MakePpoLearner(const Job& job,
                                           const RankGroups& ranks,
                                           RlhfModels& models) {
  ScalarModel critic(WithTrainingSettingsOf(models.reward_model->config(),
                                            models.policy->config()));
  critic->to(ranks.device());
  CopyParameters(*models.reward_model, *critic);
  return std::make_unique<PpoLearner>(
      models.policy, critic, job.ppo(), *ranks.groups.learners,
      job.topology().shard_optimizer_state(), PpoSchedulesOf(job));
}

// A checkpoint at `at`, where one is due: at every round's end, with
// checkpoint.every_iterations = N after every N-th PPO iteration of a round,
// and wherever the run stops for a signal (`stopping`). None while updates
// are being skipped: that state may be broken. Every learner takes part (a
// sharded optimizer's state is gathered for learner 0).
absl::Status CheckpointIfDue(const Job& job, const RankGroups& ranks,
                             RlhfModels& models, LearnerParts& learner,
                             const PolicyCounters& counters, RunOutput& output,
                             RunPosition at, bool round_end, bool stopping) {
  if (!ranks.learner() || counters.skipped_in_a_row > 0) {
    return absl::OkStatus();
  }
  const int every = static_cast<int>(job.checkpoint().every_iterations());
  const int iterations = static_cast<int>(job.ppo().iterations_per_round());
  const bool due = round_end || stopping ||
                   (every > 0 && at.iterations_done % every == 0 &&
                    at.iterations_done < iterations);
  if (!due) return absl::OkStatus();
  METARM_RETURN_IF_ERROR(SaveRlhfCheckpoint(job, *ranks.groups.learners, models,
                                            learner, counters, output, at),
                         "checkpoint at round ", at.round, ", ",
                         at.iterations_done, " PPO iterations done");
  return absl::OkStatus();
}

// Collective over `group`: the stop signal (SIGTERM or SIGUSR1) that any of
// its ranks has received, unless one of them votes that the run cannot stop
// here (`blocked`).
absl::StatusOr<std::optional<int>> VoteOnStop(Communicator& group,
                                              const StopSignals* stop,
                                              bool blocked) {
  const int received = stop != nullptr ? stop->received() : 0;
  torch::Tensor votes = torch::zeros({3}, torch::kInt32);
  votes[0] = received == SIGTERM ? 1 : 0;
  votes[1] = received != 0 && received != SIGTERM ? 1 : 0;
  votes[2] = blocked ? 1 : 0;
  if (group.size() > 1) {
    METARM_RETURN_IF_ERROR(group.AllReduce(votes, ReduceOp::kSum),
                           "agreeing on a stop signal");
  }
  if (votes[2].item<int>() > 0) return std::nullopt;
  if (votes[0].item<int>() > 0) return SIGTERM;
  if (votes[1].item<int>() > 0) return SIGUSR1;
  return std::nullopt;
}

// Where a run stands, in words.
std::string PositionText(const Job& job, RunPosition at) {
  if (at.inside_sft()) {
    return absl::StrFormat("inside round 0's SFT, %d of %d steps done",
                           at.sft_steps_done, job.sft().steps());
  }
  if (at.inside_reward_training()) {
    return absl::StrFormat(
        "inside round %d's reward-model training, %d steps done", at.round,
        at.reward_steps_done);
  }
  return absl::StrFormat("round %d, %d PPO iterations done", at.round,
                         at.iterations_done);
}

// What rank 0 says when the run stops at `at` for `signal`.
std::string StopMessage(const Job& job, int signal, RunPosition at) {
  const std::string where = at.inside_sft() || at.inside_reward_training()
                                ? PositionText(job, at)
                                : "after " + PositionText(job, at);
  return absl::StrFormat(
      "stopped by %s %s; the checkpoint is the newest in %s: run the same "
      "command again to continue",
      SignalName(signal), where, CheckpointRoot(job));
}

// A safe point: after a PPO iteration inside a round, and at a round's end
// (after its evaluation). Writes the checkpoint that is due; when a rank has
// received a stop signal, writes one here in any case and stops the run.
// Collective over the world. The run cannot stop while updates are being
// skipped (no checkpoint of that state is written); the signal then waits
// for the next safe point.
absl::Status SafePoint(const RunInputs& in, const RankGroups& ranks,
                       RlhfModels& models, LearnerParts& learner,
                       const PolicyCounters& counters, RunOutput& output,
                       const StopSignals* stop, RunPosition at,
                       bool round_end) {
  METARM_ASSIGN_OR_RETURN(
      std::optional<int> signal,
      VoteOnStop(*ranks.groups.world, stop,
                 ranks.learner() && counters.skipped_in_a_row > 0));
  METARM_RETURN_IF_ERROR(CheckpointIfDue(in.job, ranks, models, learner,
                                         counters, output, at, round_end,
                                         signal.has_value()));
  if (!signal.has_value()) return absl::OkStatus();
  return StoppedBySignal(StopMessage(in.job, *signal, at));
}

// The learners' safe point inside SFT or a round's reward-model training,
// at `at`: a stop signal that a learner has received stops the training
// here, with a checkpoint. Collective over the learners only: the rollout
// workers are waiting for the training's end, where they learn of the stop
// (AgreeOnStatus in StartRun and RunRound). Not while the policy's updates
// are being skipped (as at SafePoint).
absl::Status LearnerSafePoint(const RunInputs& in, const RankGroups& ranks,
                              RlhfModels& models, LearnerParts& learner,
                              const PolicyCounters& counters, RunOutput& output,
                              const StopSignals* stop, RunPosition at) {
  METARM_ASSIGN_OR_RETURN(
      std::optional<int> signal,
      VoteOnStop(*ranks.groups.learners, stop,
                 /*blocked=*/counters.skipped_in_a_row > 0));
  if (!signal.has_value()) return absl::OkStatus();
  METARM_RETURN_IF_ERROR(
      SaveRlhfCheckpoint(in.job, *ranks.groups.learners, models, learner,
                         counters, output, at),
      "checkpoint ", PositionText(in.job, at));
  return StoppedBySignal(StopMessage(in.job, *signal, at));
}

// Round 0: SFT (from step `first_sft_step`, 0 unless resumed inside it),
// the frozen reference, the original pairs.
absl::Status StartRun(const RunInputs& in, const RankGroups& ranks,
                      RlhfModels& models, LearnerParts& learner,
                      PolicyCounters& counters, RunOutput& output,
                      const StopSignals* stop, int first_sft_step) {
  if (ranks.writer() && output.log == nullptr) {
    METARM_ASSIGN_OR_RETURN(output.log,
                            RunLog::Start(in.job.output_dir(), RlhfLogFiles(),
                                          in.job.logging().tensorboard()));
  }
  absl::Status sft = absl::OkStatus();
  if (ranks.learner()) {
    if (learner.sft_optimizer == nullptr) {
      learner.sft_optimizer =
          MakeSftOptimizer(in, *ranks.groups.learners, models.policy);
    }
    sft = RunSft(in, *ranks.groups.learners, models.policy,
                 learner.sft_optimizer.get(), first_sft_step, output,
                 [&](int steps_done) {
                   return LearnerSafePoint(in, ranks, models, learner, counters,
                                           output, stop, {0, 0, steps_done});
                 });
    learner.sft_optimizer.reset();
  }
  // SFT's end, or its stop for a signal (the checkpoint written), on every
  // rank: the rollout workers waited here.
  METARM_RETURN_IF_ERROR(AgreeOnStatus(*ranks.groups.world, sft));
  METARM_RETURN_IF_ERROR(SyncPolicy(ranks, models, counters));
  CopyParameters(*models.policy, *models.reference);
  if (ranks.writer()) {
    METARM_RETURN_IF_ERROR(EvaluateSft(in, models, output));
  }
  if (ranks.learner()) {
    METARM_ASSIGN_OR_RETURN(learner.reward_data,
                            MakePreferenceData(in, models.policy));
  }
  return SafePoint(in, ranks, models, learner, counters, output, stop, {0, 0},
                   /*round_end=*/true);
}

// The learners' half of a round's start: the meta set, the reward model
// (from its step `first_reward_step`, 0 unless resumed inside its
// training), PPO's learner on the first round.
absl::Status TrainRoundRewardModel(const RunInputs& in, int round,
                                   int64_t first_reward_step,
                                   const RankGroups& ranks, RlhfModels& models,
                                   LearnerParts& learner,
                                   const PolicyCounters& counters,
                                   RunOutput& output, const StopSignals* stop) {
  // Resumed inside the training: the meta set is the checkpoint's.
  if (first_reward_step == 0 && in.job.reward_training().mode() != VANILLA) {
    METARM_ASSIGN_OR_RETURN(learner.reward_data.meta,
                            SampleMetaSet(in, models.policy, round));
  }
  METARM_RETURN_IF_ERROR(TrainRewardModel(
      in, round, *ranks.groups.learners, models.reward_model, learner, output,
      first_reward_step,
      [&](int64_t steps_done, const EpochTotals& epoch_so_far) {
        learner.reward_epoch_so_far = epoch_so_far;
        RunPosition at{round, 0};
        at.reward_steps_done = steps_done;
        return LearnerSafePoint(in, ranks, models, learner, counters, output,
                                stop, at);
      }));
  if (learner.ppo == nullptr) {
    learner.ppo = MakePpoLearner(in.job, ranks, models);
  }
  return absl::OkStatus();
}

// One round from its `first` PPO iteration (0 unless resumed inside it; a
// run resumed inside the reward-model training starts it at
// `first_reward_step`): meta set, reward model, PPO, evaluation, checkpoint.
absl::Status RunRound(const RunInputs& in, int round, int first,
                      int64_t first_reward_step, const RankGroups& ranks,
                      RlhfModels& models, LearnerParts& learner,
                      PolicyCounters& counters, RunOutput& output,
                      const StopSignals* stop) {
  if (first == 0) {
    absl::Status trained = absl::OkStatus();
    if (ranks.learner()) {
      trained = TrainRoundRewardModel(in, round, first_reward_step, ranks,
                                      models, learner, counters, output, stop);
    }
    // The training's end, or its stop for a signal (the checkpoint
    // written), on every rank: the rollout workers waited here.
    METARM_RETURN_IF_ERROR(AgreeOnStatus(*ranks.groups.world, trained));
  }
  METARM_RETURN_IF_ERROR(
      SendWeights(ranks, *models.reward_model, counters.policy_version)
          .status(),
      "round ", round, ": sending the reward model to the rollout workers");
  const int iterations = static_cast<int>(in.job.ppo().iterations_per_round());
  METARM_RETURN_IF_ERROR(RunPpoIterations(
      in, round, first, ranks, models, learner.ppo.get(), counters, output,
      [&](RunPosition at) -> absl::Status {
        // The round's last iteration is followed by its evaluation: its
        // safe point is the round's end.
        if (at.iterations_done == iterations) return absl::OkStatus();
        return SafePoint(in, ranks, models, learner, counters, output, stop, at,
                         /*round_end=*/false);
      }));
  if (ranks.writer()) {
    CrashPointForTest("round_end");
    METARM_RETURN_IF_ERROR(
        EvaluateRound(in, round, models, learner.reward_data.eval, output),
        "round ", round, " evaluation");
  }
  return SafePoint(in, ranks, models, learner, counters, output, stop,
                   {round, iterations}, /*round_end=*/true);
}

// Learner 0: the final weights, and their Hugging Face exports if asked.
absl::Status SaveFinalModels(const Job& job, RlhfModels& models) {
  METARM_RETURN_IF_ERROR(SaveWeights(*models.policy, models.policy->config(),
                                     job.output_dir() + "/policy.pt"));
  METARM_RETURN_IF_ERROR(ExportIfAsked(*models.policy, models.policy->config(),
                                       job.policy(), "policy",
                                       job.output_dir()));
  return ExportIfAsked(*models.reward_model, models.reward_model->config(),
                       job.reward_model(), "reward_model", job.output_dir());
}

// Every rank: the checkpoint to continue from, if any. With
// `require_resume`, having none is an error. The same status on every rank.
absl::StatusOr<std::optional<RunPosition>> FindResumePoint(
    const RunInputs& in, const RankGroups& ranks, bool require_resume,
    RlhfModels& models, LearnerParts& learner, PolicyCounters& counters,
    RunOutput& output) {
  absl::StatusOr<std::optional<RunPosition>> at =
      RestoreRlhfCheckpoint(in, ranks, models, learner, counters, output);
  METARM_RETURN_IF_ERROR(AgreeOnStatus(*ranks.groups.world, at.status()));
  if (!at->has_value()) {
    if (!require_resume) return at;
    return absl::FailedPreconditionError(
        absl::StrCat("--resume: no checkpoint in ", CheckpointRoot(in.job)));
  }
  if (ranks.groups.world->rank() == 0) {
    const std::string where = PositionText(in.job, **at);
    std::cout << absl::StrFormat(
                     "metarm: resuming from the checkpoint in %s: %s\n",
                     CheckpointRoot(in.job), where)
              << std::flush;
  }
  return at;
}

// The whole run, or its rest from `resumed` (a checkpoint's position).
absl::Status RunRounds(const RunInputs& in, std::optional<RunPosition> resumed,
                       const RankGroups& ranks, RlhfModels& models,
                       LearnerParts& learner, PolicyCounters& counters,
                       RunOutput& output, const StopSignals* stop) {
  if (resumed.has_value() && !resumed->inside_sft()) {
    METARM_RETURN_IF_ERROR(SyncPolicy(ranks, models, counters));
  } else {
    const int first_sft_step =
        resumed.has_value() ? resumed->sft_steps_done : 0;
    METARM_RETURN_IF_ERROR(StartRun(in, ranks, models, learner, counters,
                                    output, stop, first_sft_step),
                           "round 0");
  }
  const int iterations = static_cast<int>(in.job.ppo().iterations_per_round());
  const RunPosition at = resumed.value_or(RunPosition{});
  const bool round_done = at.round == 0 || at.iterations_done >= iterations;
  int first = round_done ? 0 : at.iterations_done;
  int64_t first_reward_step = std::max<int64_t>(0, at.reward_steps_done);
  for (int round = round_done ? at.round + 1 : at.round;
       round <= static_cast<int>(in.job.rounds());
       ++round, first = 0, first_reward_step = 0) {
    METARM_RETURN_IF_ERROR(RunRound(in, round, first, first_reward_step, ranks,
                                    models, learner, counters, output, stop));
  }
  if (ranks.writer()) METARM_RETURN_IF_ERROR(SaveFinalModels(in.job, models));
  return absl::OkStatus();
}

}  // namespace

absl::Status RunRlhfJob(const Job& job, ProcessGroups& groups,
                        const RlhfOptions& options) {
  const SequenceLimits limits{job.task().max_prompt_tokens(),
                              job.task().max_response_tokens()};
  RankGroups ranks{groups, /*weight_sync=*/nullptr, /*rollout_roots=*/{}};
  RlhfModels models;
  std::unique_ptr<Task> task;
  std::unique_ptr<ChatTokenizer> tokenizer;
  std::unique_ptr<RlhfData> data;
  // Everything read and checked before any work; a refusal on one rank is
  // the same error on every rank.
  absl::Status ready = [&]() -> absl::Status {
    METARM_ASSIGN_OR_RETURN(tokenizer, MakeJobTokenizer(job.task()),
                            "task.tokenizer");
    if (job.task().name() == kPreferenceFileTask) {
      METARM_ASSIGN_OR_RETURN(data, LoadFileData(job, *tokenizer));
    } else {
      METARM_ASSIGN_OR_RETURN(task, MakeTask(job.task().name()));
      if (!job.task().gold_network().empty()) {
        METARM_ASSIGN_OR_RETURN(
            task,
            MakeNetworkGoldTask(std::move(task), job.task().gold_network(),
                                *tokenizer, limits));
      }
      data = TestbedData(*task);
    }
    METARM_RETURN_IF_ERROR(ConnectRanks(job, ranks));
    METARM_RETURN_IF_ERROR(BuildModels(job, *tokenizer, limits, ranks, models));
    if (ranks.writer()) {
      METARM_ASSIGN_OR_RETURN(
          models.judge,
          MakeJudge(job, task.get(), *tokenizer, limits, ranks.device()));
    }
    if (groups.world->rank() == 0) {
      METARM_RETURN_IF_ERROR(MakeDirectories(job.output_dir()));
    }
    return absl::OkStatus();
  }();
  METARM_RETURN_IF_ERROR(AgreeOnStatus(*groups.world, ready));

  const RunInputs in{job,
                     *data,
                     *tokenizer,
                     limits,
                     RandomStreams(job.seed(), job.arm_seed()),
                     GenerationOf(job, *tokenizer)};
  LearnerParts learner;
  PolicyCounters counters;
  RunOutput output(options.progress);
  // A refused checkpoint is the same error on every rank.
  METARM_ASSIGN_OR_RETURN(std::optional<RunPosition> resumed,
                          FindResumePoint(in, ranks, options.require_resume,
                                          models, learner, counters, output));
  absl::Status result = RunRounds(in, resumed, ranks, models, learner, counters,
                                  output, options.stop);
  if (IsStoppedBySignal(result)) {
    // Every rank agreed to stop here and the checkpoint is written. A stop
    // is not an error: its message says where it stopped, without the
    // context that errors gather on the way up.
    METARM_RETURN_IF_ERROR(groups.world->Barrier());
    const std::string message(result.message());
    return StoppedBySignal(message.substr(message.find("stopped by")));
  }
  if (!result.ok()) {
    // Other ranks may be waiting for this one in a collective: end the job.
    MpiEnvironment::FailJob(std::string(result.message()), 1);
  }
  return groups.world->Barrier();
}

}  // namespace metarm
