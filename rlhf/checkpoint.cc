#include "rlhf/checkpoint.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/weights_io.h"
#include "proto/job_io.h"
#include "rlhf/checkpoint_store.h"
#include "rlhf/resume_check.h"
#include "rlhf/round_zero.h"
#include "rlhf/sft.h"
#include "tasks/preference_data.h"
#include "training/job_options.h"
#include "util/file.h"
#include "util/status_macros.h"
#include "util/test_crash.h"

namespace metarm {
namespace {

template <typename Item>
absl::Status WriteJsonLines(const std::string& path,
                            const std::vector<Item>& items,
                            std::string (*to_line)(const Item&)) {
  std::string text;
  for (const Item& item : items) text += to_line(item);
  return WriteFileAtomically(path, text);
}

// The epoch's sums as exact doubles (JSON keeps every bit of a double).
nlohmann::json EpochTotalsToJson(const EpochTotals& totals) {
  nlohmann::json sums = nlohmann::json::object();
  for (const RewardStatField& f : kRewardStatFields) {
    sums[f.step_key] = totals.sums.*f.member;
  }
  return {{"steps", totals.steps}, {"sums", sums}};
}

EpochTotals EpochTotalsFromJson(const nlohmann::json& json) {
  EpochTotals totals;
  totals.steps = json.at("steps").get<int64_t>();
  for (const RewardStatField& f : kRewardStatFields) {
    totals.sums.*f.member = json.at("sums").at(f.step_key).get<double>();
  }
  return totals;
}

nlohmann::json CountersOf(LearnerParts& learner, const PolicyCounters& counters,
                          const RunOutput& output, RunPosition at) {
  nlohmann::json log_lines = nlohmann::json::object();
  for (const auto& [file, lines] : output.log->line_counts()) {
    log_lines[file] = lines;
  }
  nlohmann::json state = {
      {"round", at.round},
      {"iterations_done", at.iterations_done},
      {"policy_version", counters.policy_version},
      {"stale_dropped", counters.stale_dropped},
      {"has_reward_trainer", learner.reward_trainer != nullptr},
      {"has_ppo", learner.ppo != nullptr},
      {"kl_coef", learner.ppo != nullptr ? learner.ppo->kl_coef() : 0.0},
      {"log_lines", log_lines},
      {"meta_set_size", learner.reward_data.meta.size()},
      {"random_state", "derived from the seed and the position"}};
  // Only inside SFT or a reward-model training (older checkpoints have no
  // such keys: they were written at neither).
  if (at.inside_sft()) state["sft_steps_done"] = at.sft_steps_done;
  if (at.inside_reward_training()) {
    state["reward_steps_done"] = at.reward_steps_done;
    state["reward_epoch_so_far"] =
        EpochTotalsToJson(learner.reward_epoch_so_far);
  }
  return state;
}

absl::Status SaveModels(RlhfModels& models, LearnerParts& learner,
                        const CheckpointWriter& w) {
  METARM_RETURN_IF_ERROR(SaveWeights(*models.policy, models.policy->config(),
                                     w.PathOf("policy.pt")));
  METARM_RETURN_IF_ERROR(SaveWeights(
      *models.reference, models.reference->config(), w.PathOf("reference.pt")));
  CrashPointForTest("checkpoint_write");
  METARM_RETURN_IF_ERROR(SaveWeights(*models.reward_model,
                                     models.reward_model->config(),
                                     w.PathOf("reward_model.pt")));
  if (learner.ppo != nullptr) {
    METARM_RETURN_IF_ERROR(SaveWeights(*learner.ppo->critic(),
                                       learner.ppo->critic()->config(),
                                       w.PathOf("critic.pt")));
  }
  return absl::OkStatus();
}

// Collective over the learners (a sharded optimizer gathers its state on
// learner 0, which writes it); `w` is null except on learner 0.
absl::Status SaveOptimizers(LearnerParts& learner, const CheckpointWriter* w) {
  auto path = [w](const char* name) {
    return w != nullptr ? w->PathOf(name) : std::string();
  };
  if (learner.sft_optimizer != nullptr) {
    METARM_RETURN_IF_ERROR(
        learner.sft_optimizer->Save(path("sft_optimizer.pt")));
  }
  if (learner.reward_trainer != nullptr) {
    METARM_RETURN_IF_ERROR(
        learner.reward_trainer->optimizer().Save(path("reward_optimizer.pt")));
  }
  if (learner.ppo != nullptr) {
    METARM_RETURN_IF_ERROR(
        learner.ppo->policy_optimizer().Save(path("policy_optimizer.pt")));
    METARM_RETURN_IF_ERROR(
        learner.ppo->critic_optimizer().Save(path("critic_optimizer.pt")));
  }
  return absl::OkStatus();
}

absl::Status SaveData(const Job& job, const RewardData& data,
                      const CheckpointWriter& w) {
  METARM_RETURN_IF_ERROR(WriteJsonLines(w.PathOf("preference_train.jsonl"),
                                        data.train, &PreferencePairToJsonLine));
  METARM_RETURN_IF_ERROR(WriteJsonLines(w.PathOf("preference_eval.jsonl"),
                                        data.eval, &PreferencePairToJsonLine));
  METARM_RETURN_IF_ERROR(WriteJsonLines(w.PathOf("meta_set.jsonl"), data.meta,
                                        &ResponseSetToJsonLine));
  return WriteFileAtomically(w.PathOf("job.pbtxt"), JobToText(job));
}

// The checkpoint's job, compared with this run's.
absl::Status CheckJob(const Job& job, const Checkpoint& checkpoint, int round) {
  METARM_ASSIGN_OR_RETURN(std::string text,
                          ReadFile(checkpoint.PathOf("job.pbtxt")));
  absl::StatusOr<Job> saved =
      ParseJobText(text, checkpoint.PathOf("job.pbtxt"));
  if (!saved.ok()) return absl::DataLossError(saved.status().message());
  std::vector<std::string> conflicts = ResumeConflicts(*saved, job, round);
  if (conflicts.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot resume from ", checkpoint.path,
      ": the job file changed in fields that make resuming wrong: ",
      absl::StrJoin(conflicts, ", "),
      " (restore them, or start afresh in another output_dir)"));
}

absl::Status LoadModels(const Checkpoint& c, RlhfModels& models) {
  METARM_RETURN_IF_ERROR(LoadWeights(*models.policy, models.policy->config(),
                                     c.PathOf("policy.pt")));
  METARM_RETURN_IF_ERROR(LoadWeights(
      *models.reference, models.reference->config(), c.PathOf("reference.pt")));
  return LoadWeights(*models.reward_model, models.reward_model->config(),
                     c.PathOf("reward_model.pt"));
}

// Learners: the trainers the run had made by the checkpoint, with their
// optimizer states (and the critic's weights, the KL coefficient).
absl::Status LoadTrainers(const RunInputs& in, const Checkpoint& c,
                          const RankGroups& ranks, RlhfModels& models,
                          LearnerParts& learner) {
  const Job& job = in.job;
  const nlohmann::json& state = c.state;
  Communicator& learners = *ranks.groups.learners;
  if (state.contains("sft_steps_done")) {
    learner.sft_optimizer = MakeSftOptimizer(in, learners, models.policy);
    if (learner.sft_optimizer != nullptr) {
      METARM_RETURN_IF_ERROR(learner.sft_optimizer->Load(
          c.PathOf("sft_optimizer.pt"), ranks.device()));
    }
  }
  if (state.at("has_reward_trainer").get<bool>()) {
    learner.reward_trainer = std::make_unique<RewardTrainer>(
        models.reward_model, RewardTrainerOptionsOf(job), learners);
    METARM_RETURN_IF_ERROR(learner.reward_trainer->optimizer().Load(
        c.PathOf("reward_optimizer.pt"), ranks.device()));
  }
  if (state.at("has_ppo").get<bool>()) {
    ScalarModel critic(WithTrainingSettingsOf(models.reward_model->config(),
                                              models.policy->config()));
    critic->to(ranks.device());
    METARM_RETURN_IF_ERROR(
        LoadWeights(*critic, critic->config(), c.PathOf("critic.pt")));
    learner.ppo = std::make_unique<PpoLearner>(
        models.policy, critic, job.ppo(), learners,
        job.topology().shard_optimizer_state(), PpoSchedulesOf(job));
    METARM_RETURN_IF_ERROR(learner.ppo->policy_optimizer().Load(
        c.PathOf("policy_optimizer.pt"), ranks.device()));
    METARM_RETURN_IF_ERROR(learner.ppo->critic_optimizer().Load(
        c.PathOf("critic_optimizer.pt"), ranks.device()));
    learner.ppo->RestoreKlCoef(state.at("kl_coef").get<double>());
  }
  return absl::OkStatus();
}

absl::Status LoadData(const RunInputs& in, const Checkpoint& c,
                      RewardData& data) {
  METARM_ASSIGN_OR_RETURN(
      data.train,
      ReadPreferencePairs(c.PathOf("preference_train.jsonl"), in.tokenizer));
  METARM_ASSIGN_OR_RETURN(
      data.eval,
      ReadPreferencePairs(c.PathOf("preference_eval.jsonl"), in.tokenizer));
  // No meta set before round 1's, nor ever with VANILLA.
  if (c.state.at("meta_set_size").get<int64_t>() == 0) return absl::OkStatus();
  METARM_ASSIGN_OR_RETURN(
      data.meta,
      ReadResponseSets(c.PathOf("meta_set.jsonl"), in.tokenizer,
                       in.job.reward_training().responses_per_prompt()));
  return absl::OkStatus();
}

absl::Status ResumeLogs(const Job& job, const nlohmann::json& state,
                        RunOutput& output) {
  std::map<std::string, int64_t> lines;
  for (const auto& [file, count] : state.at("log_lines").items()) {
    lines[file] = count.get<int64_t>();
  }
  METARM_ASSIGN_OR_RETURN(output.log,
                          RunLog::Resume(job.output_dir(), RlhfLogFiles(),
                                         job.logging().tensorboard(), lines));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RunPosition>> Restore(
    const RunInputs& in, const Checkpoint& c, const RankGroups& ranks,
    RlhfModels& models, LearnerParts& learner, PolicyCounters& counters,
    RunOutput& output) {
  const nlohmann::json& state = c.state;
  RunPosition at{state.at("round").get<int>(),
                 state.at("iterations_done").get<int>(),
                 state.value("sft_steps_done", -1),
                 state.value("reward_steps_done", int64_t{-1})};
  if (at.inside_reward_training() && ranks.learner()) {
    learner.reward_epoch_so_far =
        EpochTotalsFromJson(state.at("reward_epoch_so_far"));
  }
  METARM_RETURN_IF_ERROR(CheckJob(in.job, c, at.round));
  METARM_RETURN_IF_ERROR(LoadModels(c, models));
  if (ranks.learner()) {
    METARM_RETURN_IF_ERROR(LoadTrainers(in, c, ranks, models, learner));
    // Inside SFT no pairs have been made yet.
    if (!at.inside_sft()) {
      METARM_RETURN_IF_ERROR(LoadData(in, c, learner.reward_data));
    }
  }
  counters.policy_version = state.at("policy_version").get<int64_t>();
  counters.stale_dropped = state.at("stale_dropped").get<int64_t>();
  output.checkpoints_written = c.sequence;
  if (ranks.writer()) METARM_RETURN_IF_ERROR(ResumeLogs(in.job, state, output));
  return at;
}

}  // namespace

std::vector<LogFile> RlhfLogFiles() {
  return {{"metrics.jsonl", "policy_version"},
          {"rounds.jsonl", "round"},
          {kRewardEpochLog, "step"},
          {kRewardStepLog, "step"},
          {kSftStepLog, "step"},
          {"eval_samples.jsonl", ""}};
}

std::string CheckpointRoot(const Job& job) {
  return job.output_dir() + "/checkpoints";
}

absl::Status SaveRlhfCheckpoint(const Job& job, Communicator& learners,
                                RlhfModels& models, LearnerParts& learner,
                                const PolicyCounters& counters,
                                RunOutput& output, RunPosition at) {
  if (learners.rank() != 0) return SaveOptimizers(learner, nullptr);
  const int64_t sequence = output.checkpoints_written + 1;
  METARM_ASSIGN_OR_RETURN(
      CheckpointWriter writer,
      CheckpointWriter::Begin(CheckpointRoot(job), sequence));
  METARM_RETURN_IF_ERROR(SaveOptimizers(learner, &writer));
  METARM_RETURN_IF_ERROR(SaveModels(models, learner, writer));
  METARM_RETURN_IF_ERROR(SaveData(job, learner.reward_data, writer));
  METARM_RETURN_IF_ERROR(
      writer.Commit(CountersOf(learner, counters, output, at)));
  output.checkpoints_written = sequence;
  return PruneCheckpoints(CheckpointRoot(job),
                          static_cast<int>(job.checkpoint().keep_last()));
}

absl::StatusOr<std::optional<RunPosition>> RestoreRlhfCheckpoint(
    const RunInputs& in, const RankGroups& ranks, RlhfModels& models,
    LearnerParts& learner, PolicyCounters& counters, RunOutput& output) {
  METARM_ASSIGN_OR_RETURN(std::optional<Checkpoint> latest,
                          FindLatestCheckpoint(CheckpointRoot(in.job)));
  if (!latest.has_value()) return std::nullopt;
  try {
    return Restore(in, *latest, ranks, models, learner, counters, output);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(
        latest->path, "/manifest.json: its state is malformed: ", e.what()));
  }
}

}  // namespace metarm
