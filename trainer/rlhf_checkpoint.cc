#include "trainer/rlhf_checkpoint.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/weights_io.h"
#include "proto/job_io.h"
#include "tasks/preference_data.h"
#include "trainer/checkpoint_store.h"
#include "trainer/resume_check.h"
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

nlohmann::json CountersOf(const RlhfState& s, RunPosition at) {
  nlohmann::json log_lines = nlohmann::json::object();
  for (const auto& [file, lines] : s.log->line_counts()) {
    log_lines[file] = lines;
  }
  return {{"round", at.round},
          {"iterations_done", at.iterations_done},
          {"policy_version", s.policy_version},
          {"stale_dropped", s.stale_dropped},
          {"has_reward_trainer", s.reward_trainer != nullptr},
          {"has_ppo", s.ppo != nullptr},
          {"kl_coef", s.ppo != nullptr ? s.ppo->kl_coef() : 0.0},
          {"log_lines", log_lines},
          {"meta_set_size", s.reward_data.meta.size()},
          {"random_state", "derived from the seed and the position"}};
}

absl::Status SaveModels(RlhfState& s, const CheckpointWriter& w) {
  METARM_RETURN_IF_ERROR(
      SaveWeights(*s.policy, s.policy->config(), w.PathOf("policy.pt")));
  METARM_RETURN_IF_ERROR(SaveWeights(*s.reference, s.reference->config(),
                                     w.PathOf("reference.pt")));
  CrashPointForTest("checkpoint_write");
  METARM_RETURN_IF_ERROR(SaveWeights(*s.reward_model, s.reward_model->config(),
                                     w.PathOf("reward_model.pt")));
  if (s.ppo != nullptr) {
    METARM_RETURN_IF_ERROR(SaveWeights(
        *s.ppo->critic(), s.ppo->critic()->config(), w.PathOf("critic.pt")));
  }
  return absl::OkStatus();
}

// Collective over the learners (a sharded optimizer gathers its state on
// learner 0, which writes it); `w` is null except on learner 0.
absl::Status SaveOptimizers(RlhfState& s, const CheckpointWriter* w) {
  auto path = [w](const char* name) {
    return w != nullptr ? w->PathOf(name) : std::string();
  };
  if (s.reward_trainer != nullptr) {
    METARM_RETURN_IF_ERROR(
        s.reward_trainer->optimizer().Save(path("reward_optimizer.pt")));
  }
  if (s.ppo != nullptr) {
    METARM_RETURN_IF_ERROR(
        s.ppo->policy_optimizer().Save(path("policy_optimizer.pt")));
    METARM_RETURN_IF_ERROR(
        s.ppo->critic_optimizer().Save(path("critic_optimizer.pt")));
  }
  return absl::OkStatus();
}

absl::Status SaveData(const RlhfState& s, const CheckpointWriter& w) {
  METARM_RETURN_IF_ERROR(WriteJsonLines(w.PathOf("preference_train.jsonl"),
                                        s.reward_data.train,
                                        &PreferencePairToJsonLine));
  METARM_RETURN_IF_ERROR(WriteJsonLines(w.PathOf("preference_eval.jsonl"),
                                        s.reward_data.eval,
                                        &PreferencePairToJsonLine));
  METARM_RETURN_IF_ERROR(WriteJsonLines(
      w.PathOf("meta_set.jsonl"), s.reward_data.meta, &ResponseSetToJsonLine));
  return WriteFileAtomically(w.PathOf("job.pbtxt"), JobToText(s.job));
}

// The checkpoint's job, compared with this run's.
absl::Status CheckJob(const RlhfState& s, const Checkpoint& checkpoint,
                      int round) {
  METARM_ASSIGN_OR_RETURN(std::string text,
                          ReadFile(checkpoint.PathOf("job.pbtxt")));
  absl::StatusOr<Job> saved =
      ParseJobText(text, checkpoint.PathOf("job.pbtxt"));
  if (!saved.ok()) return absl::DataLossError(saved.status().message());
  std::vector<std::string> conflicts = ResumeConflicts(*saved, s.job, round);
  if (conflicts.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot resume from ", checkpoint.path,
      ": the job file changed in fields that make resuming wrong: ",
      absl::StrJoin(conflicts, ", "),
      " (restore them, or start afresh in another output_dir)"));
}

absl::Status LoadModels(RlhfState& s, const Checkpoint& c,
                        const nlohmann::json& state) {
  METARM_RETURN_IF_ERROR(
      LoadWeights(*s.policy, s.policy->config(), c.PathOf("policy.pt")));
  METARM_RETURN_IF_ERROR(LoadWeights(*s.reference, s.reference->config(),
                                     c.PathOf("reference.pt")));
  METARM_RETURN_IF_ERROR(LoadWeights(*s.reward_model, s.reward_model->config(),
                                     c.PathOf("reward_model.pt")));
  if (!s.learner()) return absl::OkStatus();
  if (state.at("has_reward_trainer").get<bool>()) {
    s.reward_trainer = std::make_unique<RewardTrainer>(
        s.reward_model,
        RewardTrainerOptions::FromSpec(s.job.reward_training(),
                                       s.job.topology()),
        *s.groups.learners);
    METARM_RETURN_IF_ERROR(s.reward_trainer->optimizer().Load(
        c.PathOf("reward_optimizer.pt"), s.device()));
  }
  if (state.at("has_ppo").get<bool>()) {
    ScalarModel critic(s.reward_model->config());
    critic->to(s.device());
    METARM_RETURN_IF_ERROR(
        LoadWeights(*critic, critic->config(), c.PathOf("critic.pt")));
    s.ppo = std::make_unique<PpoLearner>(
        s.policy, critic, s.job.ppo(), *s.groups.learners,
        s.job.topology().shard_optimizer_state());
    METARM_RETURN_IF_ERROR(s.ppo->policy_optimizer().Load(
        c.PathOf("policy_optimizer.pt"), s.device()));
    METARM_RETURN_IF_ERROR(s.ppo->critic_optimizer().Load(
        c.PathOf("critic_optimizer.pt"), s.device()));
    s.ppo->RestoreKlCoef(state.at("kl_coef").get<double>());
  }
  return absl::OkStatus();
}

absl::Status LoadData(RlhfState& s, const Checkpoint& c) {
  METARM_ASSIGN_OR_RETURN(
      s.reward_data.train,
      ReadPreferencePairs(c.PathOf("preference_train.jsonl"), s.tokenizer()));
  METARM_ASSIGN_OR_RETURN(
      s.reward_data.eval,
      ReadPreferencePairs(c.PathOf("preference_eval.jsonl"), s.tokenizer()));
  // No meta set before round 1's, nor ever with VANILLA.
  if (c.state.at("meta_set_size").get<int64_t>() == 0) return absl::OkStatus();
  METARM_ASSIGN_OR_RETURN(
      s.reward_data.meta,
      ReadResponseSets(c.PathOf("meta_set.jsonl"), s.tokenizer(),
                       s.job.reward_training().responses_per_prompt()));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RunPosition>> Restore(RlhfState& s,
                                                   const Checkpoint& c) {
  const nlohmann::json& state = c.state;
  RunPosition at{state.at("round").get<int>(),
                 state.at("iterations_done").get<int>()};
  METARM_RETURN_IF_ERROR(CheckJob(s, c, at.round));
  METARM_RETURN_IF_ERROR(LoadModels(s, c, state));
  if (s.learner()) METARM_RETURN_IF_ERROR(LoadData(s, c));
  s.policy_version = state.at("policy_version").get<int64_t>();
  s.stale_dropped = state.at("stale_dropped").get<int64_t>();
  s.checkpoints_written = c.sequence;
  if (s.writer()) {
    std::map<std::string, int64_t> lines;
    for (const auto& [file, count] : state.at("log_lines").items()) {
      lines[file] = count.get<int64_t>();
    }
    METARM_ASSIGN_OR_RETURN(
        s.log, RunLog::Resume(s.job.output_dir(), RlhfLogFiles(),
                              s.job.logging().tensorboard(), lines));
  }
  return at;
}

}  // namespace

std::vector<LogFile> RlhfLogFiles() {
  return {{"metrics.jsonl", "policy_version"},
          {"rounds.jsonl", "round"},
          {"reward_model.jsonl", "step"},
          {"reward_steps.jsonl", "step"},
          {"eval_samples.jsonl", ""}};
}

std::string CheckpointRoot(const Job& job) {
  return job.output_dir() + "/checkpoints";
}

absl::Status SaveRlhfCheckpoint(RlhfState& s, RunPosition at) {
  if (!s.writer()) return SaveOptimizers(s, nullptr);
  const int64_t sequence = s.checkpoints_written + 1;
  METARM_ASSIGN_OR_RETURN(
      CheckpointWriter writer,
      CheckpointWriter::Begin(CheckpointRoot(s.job), sequence));
  METARM_RETURN_IF_ERROR(SaveOptimizers(s, &writer));
  METARM_RETURN_IF_ERROR(SaveModels(s, writer));
  METARM_RETURN_IF_ERROR(SaveData(s, writer));
  METARM_RETURN_IF_ERROR(writer.Commit(CountersOf(s, at)));
  s.checkpoints_written = sequence;
  return PruneCheckpoints(CheckpointRoot(s.job),
                          static_cast<int>(s.job.checkpoint().keep_last()));
}

absl::StatusOr<std::optional<RunPosition>> RestoreRlhfCheckpoint(RlhfState& s) {
  METARM_ASSIGN_OR_RETURN(std::optional<Checkpoint> latest,
                          FindLatestCheckpoint(CheckpointRoot(s.job)));
  if (!latest.has_value()) return std::nullopt;
  try {
    return Restore(s, *latest);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(
        latest->path, "/manifest.json: its state is malformed: ", e.what()));
  }
}

}  // namespace metarm
