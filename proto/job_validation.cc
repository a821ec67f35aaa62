#include "proto/job_validation.h"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rollout/kv_blocks.h"
#include "util/device_spec.h"

namespace metarm {
namespace {

// Accumulates "<path>: <reason>" lines; the check helpers below add to it.
class Problems {
 public:
  void Add(const std::string& path, const std::string& reason) {
    lines_.push_back(absl::StrCat(path, ": ", reason));
  }

  // value in the interval; `low_open`/`high_open` exclude the ends.
  void InRange(const std::string& path, double value, double low, double high,
               bool low_open, bool high_open) {
    const bool above = low_open ? value > low : value >= low;
    const bool below = high_open ? value < high : value <= high;
    if (above && below) return;
    Add(path, absl::StrCat("must be in ", low_open ? "(" : "[", low, ", ", high,
                           high_open ? ")" : "]", ", got ", value));
  }

  void Positive(const std::string& path, double value) {
    if (!(value > 0)) Add(path, absl::StrCat("must be > 0, got ", value));
  }

  void NonNegative(const std::string& path, double value) {
    if (!(value >= 0)) Add(path, absl::StrCat("must be >= 0, got ", value));
  }

  void AtLeast(const std::string& path, uint64_t value, uint64_t minimum) {
    if (value < minimum) {
      Add(path, absl::StrCat("must be >= ", minimum, ", got ", value));
    }
  }

  void MultipleOf(const std::string& path, uint64_t value,
                  const std::string& divisor_path, uint64_t divisor) {
    if (divisor == 0 || value % divisor == 0) return;
    Add(path, absl::StrCat("must be a multiple of ", divisor_path, " (",
                           divisor, "), got ", value));
  }

  // A file or a folder.
  void PathExists(const std::string& path, const std::string& file) {
    struct stat info;
    if (::stat(file.c_str(), &info) != 0) {
      Add(path, absl::StrCat("no such file or folder: ", file));
    }
  }

  void FileExists(const std::string& path, const std::string& file) {
    if (file.empty()) return;
    struct stat info;
    if (::stat(file.c_str(), &info) != 0) {
      Add(path, absl::StrCat("no such file: ", file));
    } else if (!S_ISREG(info.st_mode)) {
      Add(path, absl::StrCat("not a regular file: ", file));
    }
  }

  std::vector<std::string> Take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
};

// The name becomes a folder (runs/<name>) and file names: "." and ".."
// would put the outputs in runs/ itself or above it.
bool IsValidName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
  });
}

void ValidateTopology(const Topology& topology, Problems& problems) {
  absl::StatusOr<DeviceSpec> device = ParseDeviceSpec(topology.device());
  if (!device.ok()) {
    problems.Add("topology.device", std::string(device.status().message()));
  } else if (device->kind == DeviceSpec::Kind::kCpu &&
             topology.backend() == NCCL) {
    problems.Add("topology.backend",
                 "NCCL moves CUDA tensors; topology.device is cpu");
  }
  problems.AtLeast("topology.learner_ranks", topology.learner_ranks(), 1);
  problems.AtLeast("topology.rollout_ranks", topology.rollout_ranks(), 1);
  problems.InRange("topology.collective_timeout_seconds",
                   topology.collective_timeout_seconds(), 1, 604800, false,
                   false);
  if (topology.placement() == COLOCATED) {
    if (topology.rollout_ranks() != topology.learner_ranks()) {
      problems.Add(
          "topology.rollout_ranks",
          absl::StrCat("must equal learner_ranks (", topology.learner_ranks(),
                       ") when placement is COLOCATED, got ",
                       topology.rollout_ranks()));
    }
    if (topology.learner_world_ranks_size() > 0) {
      problems.Add("topology.learner_world_ranks",
                   "must be empty when placement is COLOCATED (every rank "
                   "is a learner)");
    }
    return;
  }
  if (topology.learner_world_ranks_size() == 0) return;
  if (static_cast<uint32_t>(topology.learner_world_ranks_size()) !=
      topology.learner_ranks()) {
    problems.Add(
        "topology.learner_world_ranks",
        absl::StrCat("must list learner_ranks (", topology.learner_ranks(),
                     ") ranks, got ", topology.learner_world_ranks_size()));
  }
  const int world = RequiredWorldSize(topology);
  std::set<uint32_t> seen;
  for (uint32_t rank : topology.learner_world_ranks()) {
    if (rank >= static_cast<uint32_t>(world)) {
      problems.Add("topology.learner_world_ranks",
                   absl::StrCat("rank ", rank, " is outside the world of ",
                                world, " ranks"));
    }
    if (!seen.insert(rank).second) {
      problems.Add("topology.learner_world_ranks",
                   absl::StrCat("rank ", rank, " is listed twice"));
    }
  }
}

void ValidateModel(const std::string& path, const ModelSpec& model,
                   Problems& problems) {
  problems.AtLeast(path + ".d_model", model.d_model(), 1);
  problems.AtLeast(path + ".n_layers", model.n_layers(), 1);
  problems.AtLeast(path + ".n_heads", model.n_heads(), 1);
  problems.AtLeast(path + ".max_seq_len", model.max_seq_len(), 2);
  if (model.n_heads() > 0 && model.d_model() % model.n_heads() != 0) {
    problems.Add(path + ".n_heads",
                 absl::StrCat("must divide d_model (", model.d_model(),
                              "), got ", model.n_heads()));
  } else if (model.positions() == ROTARY && model.n_heads() > 0 &&
             (model.d_model() / model.n_heads()) % 2 != 0) {
    problems.Add(path + ".positions",
                 absl::StrCat("ROTARY needs an even head size, got d_model / "
                              "n_heads = ",
                              model.d_model() / model.n_heads()));
  }
  problems.InRange(path + ".dropout", model.dropout(), 0, 1, false, true);
  if (!model.checkpoint().empty()) {
    // The folder's contents (config.json, the weights) are checked when the
    // model is built, naming the file and the field.
    problems.FileExists(path + ".checkpoint",
                        model.checkpoint() + "/config.json");
  }
}

void ValidateTask(const TaskSpec& task, const ValidationContext& context,
                  Problems& problems) {
  if (task.name().empty()) {
    problems.Add("task.name",
                 absl::StrCat("must be set, one of: ",
                              absl::StrJoin(context.known_tasks, ", ")));
  } else if (std::find(context.known_tasks.begin(), context.known_tasks.end(),
                       task.name()) == context.known_tasks.end()) {
    problems.Add("task.name",
                 absl::StrCat("unknown task \"", task.name(), "\", one of: ",
                              absl::StrJoin(context.known_tasks, ", ")));
  }
  if (task.name() == "preference_file" && task.train_pairs().empty()) {
    problems.Add("task.train_pairs",
                 "must name a JSON-lines file when task.name is "
                 "\"preference_file\"");
  }
  problems.FileExists("task.train_pairs", task.train_pairs());
  problems.FileExists("task.eval_pairs", task.eval_pairs());
  problems.FileExists("task.meta_responses", task.meta_responses());
  problems.FileExists("task.eval_responses", task.eval_responses());
  problems.FileExists("task.shifted_pairs", task.shifted_pairs());
  problems.FileExists("task.train_prompts", task.train_prompts());
  problems.FileExists("task.eval_prompts", task.eval_prompts());
  problems.FileExists("task.sft_data", task.sft_data());
  if (task.name() != "preference_file") {
    // A testbed task makes its own prompts and demonstrations: a file named
    // here would be silently unused.
    for (const auto& [field, value] :
         {std::make_pair("task.train_prompts", &task.train_prompts()),
          std::make_pair("task.eval_prompts", &task.eval_prompts()),
          std::make_pair("task.sft_data", &task.sft_data())}) {
      if (!value->empty()) {
        problems.Add(field,
                     "is read only when task.name is "
                     "\"preference_file\"");
      }
    }
  }
  if (!task.gold_network().empty()) {
    if (task.name() == "preference_file") {
      problems.Add("task.gold_network",
                   "is for the testbed tasks; a \"preference_file\" job is "
                   "judged by eval.judge");
    }
    problems.PathExists("task.gold_network", task.gold_network());
  }
  if (!(task.held_out_fraction() > 0 && task.held_out_fraction() < 1)) {
    problems.Add(
        "task.held_out_fraction",
        absl::StrCat("must be in (0, 1), got ", task.held_out_fraction()));
  }
  // "byte", or the path of a tokenizer (tasks/tokenizer_factory.h), whose
  // contents are checked when it is loaded.
  if (task.tokenizer() != "byte") {
    problems.PathExists("task.tokenizer", task.tokenizer());
  }
  problems.Positive("task.label_temperature", task.label_temperature());
  problems.AtLeast("task.num_train_prompts", task.num_train_prompts(), 1);
  problems.AtLeast("task.num_eval_prompts", task.num_eval_prompts(), 1);
  problems.AtLeast("task.num_preference_pairs", task.num_preference_pairs(), 1);
  problems.AtLeast("task.max_prompt_tokens", task.max_prompt_tokens(), 1);
  problems.AtLeast("task.max_response_tokens", task.max_response_tokens(), 1);
}

void ValidateSequenceLengths(const Job& job, Problems& problems) {
  // + 2: the begin and end tokens around every prompt + response.
  const uint64_t longest = uint64_t{job.task().max_prompt_tokens()} +
                           job.task().max_response_tokens() + 2;
  for (const auto& [path, model] :
       {std::make_pair("policy", &job.policy()),
        std::make_pair("reward_model", &job.reward_model())}) {
    if (job.kind() != RLHF && model == &job.policy()) continue;
    // A pretrained model's length is its config.json's, checked when it is
    // read (training/model_factory.h).
    if (!model->checkpoint().empty()) continue;
    if (model->max_seq_len() < longest) {
      problems.Add(absl::StrCat(path, ".max_seq_len"),
                   absl::StrCat("must hold task.max_prompt_tokens + "
                                "task.max_response_tokens + 2 (",
                                longest, "), got ", model->max_seq_len()));
    }
  }
  if (job.kind() == RLHF &&
      job.ppo().max_new_tokens() > job.task().max_response_tokens()) {
    problems.Add("ppo.max_new_tokens",
                 absl::StrCat("must be <= task.max_response_tokens (",
                              job.task().max_response_tokens(), "), got ",
                              job.ppo().max_new_tokens()));
  }
}

// The engine's slots must hold every response to one prompt, and a pool of
// a set size what one prompt with its responses may need.
void ValidateGeneration(const Job& job, Problems& problems) {
  const GenerationSpec& g = job.generation();
  const uint64_t most_responses =
      std::max<uint64_t>(2, job.reward_training().responses_per_prompt());
  if (g.max_sequences() < most_responses) {
    problems.Add("generation.max_sequences",
                 absl::StrCat("must be >= ", most_responses,
                              " (the most responses sampled to one prompt: 2 "
                              "and reward_training.responses_per_prompt), got ",
                              g.max_sequences()));
  }
  problems.AtLeast("generation.kv_block_tokens", g.kv_block_tokens(), 1);
  if (g.kv_pool_blocks() == 0 || g.kv_block_tokens() == 0) return;
  // The begin token + the longest prompt.
  const int64_t prompt = int64_t{job.task().max_prompt_tokens()} + 1;
  const int64_t needed =
      WorstCaseBlocks(prompt, most_responses, job.ppo().max_new_tokens(),
                      g.kv_block_tokens(), g.share_prompts());
  if (int64_t{g.kv_pool_blocks()} < needed + 1) {
    problems.Add(
        "generation.kv_pool_blocks",
        absl::StrCat("must be 0 (sized to max_sequences) or >= ", needed + 1,
                     ": one prompt of task.max_prompt_tokens with ",
                     most_responses, " responses of ppo.max_new_tokens needs ",
                     needed, " blocks of ", g.kv_block_tokens(),
                     " tokens, and block 0 is reserved; got ",
                     g.kv_pool_blocks()));
  }
}

void ValidateSchedule(const std::string& path, const TrainingSchedule& schedule,
                      Problems& problems) {
  problems.NonNegative(path + ".max_grad_norm", schedule.max_grad_norm());
  problems.InRange(path + ".min_lr_ratio", schedule.min_lr_ratio(), 0, 1, false,
                   false);
}

void ValidateSft(const SftSpec& sft, const Topology& topology,
                 Problems& problems) {
  ValidateSchedule("sft.schedule", sft.schedule(), problems);
  problems.Positive("sft.learning_rate", sft.learning_rate());
  problems.AtLeast("sft.batch_size", sft.batch_size(), 1);
  problems.MultipleOf("sft.batch_size", sft.batch_size(),
                      "topology.learner_ranks", topology.learner_ranks());
}

void ValidateRewardTraining(const RewardTraining& reward,
                            const Topology& topology, Problems& problems) {
  ValidateSchedule("reward_training.schedule", reward.schedule(), problems);
  problems.NonNegative("reward_training.eta", reward.eta());
  problems.NonNegative("reward_training.gap_lambda", reward.gap_lambda());
  problems.Positive("reward_training.learning_rate", reward.learning_rate());
  problems.NonNegative("reward_training.weight_decay", reward.weight_decay());
  problems.AtLeast("reward_training.batch_size", reward.batch_size(), 1);
  problems.AtLeast("reward_training.meta_batch_size", reward.meta_batch_size(),
                   1);
  problems.AtLeast("reward_training.responses_per_prompt",
                   reward.responses_per_prompt(), 2);
  problems.AtLeast("reward_training.epochs", reward.epochs(), 1);
  problems.MultipleOf("reward_training.batch_size", reward.batch_size(),
                      "topology.learner_ranks", topology.learner_ranks());
  problems.MultipleOf("reward_training.meta_batch_size",
                      reward.meta_batch_size(), "topology.learner_ranks",
                      topology.learner_ranks());
}

void ValidatePpo(const PpoSpec& ppo, const Topology& topology,
                 Problems& problems) {
  ValidateSchedule("ppo.schedule", ppo.schedule(), problems);
  problems.Positive("ppo.policy_learning_rate", ppo.policy_learning_rate());
  problems.Positive("ppo.value_learning_rate", ppo.value_learning_rate());
  problems.InRange("ppo.clip_range", ppo.clip_range(), 0, 1, true, true);
  problems.Positive("ppo.value_clip_range", ppo.value_clip_range());
  problems.InRange("ppo.gamma", ppo.gamma(), 0, 1, false, false);
  problems.InRange("ppo.lambda", ppo.lambda(), 0, 1, false, false);
  problems.NonNegative("ppo.kl_coef", ppo.kl_coef());
  problems.NonNegative("ppo.kl_target", ppo.kl_target());
  problems.NonNegative("ppo.reward_clip", ppo.reward_clip());
  problems.NonNegative("ppo.entropy_coef", ppo.entropy_coef());
  problems.AtLeast("ppo.epochs", ppo.epochs(), 1);
  problems.AtLeast("ppo.minibatch_size", ppo.minibatch_size(), 1);
  problems.AtLeast("ppo.rollout_batch_size", ppo.rollout_batch_size(), 1);
  problems.AtLeast("ppo.iterations_per_round", ppo.iterations_per_round(), 1);
  problems.AtLeast("ppo.max_skipped_updates", ppo.max_skipped_updates(), 1);
  problems.Positive("ppo.temperature", ppo.temperature());
  problems.InRange("ppo.top_p", ppo.top_p(), 0, 1, true, false);
  problems.AtLeast("ppo.max_new_tokens", ppo.max_new_tokens(), 1);
  // Rollouts run max_staleness batches ahead within a round (the pipeline
  // drains at each round's end, where the reward model changes).
  if (ppo.max_staleness() >= ppo.iterations_per_round() &&
      ppo.max_staleness() > 0) {
    problems.Add("ppo.max_staleness",
                 absl::StrCat("must be less than ppo.iterations_per_round (",
                              ppo.iterations_per_round(),
                              "): rollouts run at most that many batches "
                              "ahead within a round, got ",
                              ppo.max_staleness()));
  }
  problems.MultipleOf("ppo.rollout_batch_size", ppo.rollout_batch_size(),
                      "topology.rollout_ranks", topology.rollout_ranks());
  problems.MultipleOf("ppo.minibatch_size", ppo.minibatch_size(),
                      "topology.learner_ranks", topology.learner_ranks());
  if (ppo.minibatch_size() > 0 &&
      ppo.rollout_batch_size() % ppo.minibatch_size() != 0) {
    problems.Add("ppo.minibatch_size",
                 absl::StrCat("must divide ppo.rollout_batch_size (",
                              ppo.rollout_batch_size(), "), got ",
                              ppo.minibatch_size()));
  }
}

}  // namespace

std::vector<std::string> ValidateJob(const Job& job,
                                     const ValidationContext& context) {
  Problems problems;
  if (!IsValidName(job.name())) {
    problems.Add("name",
                 absl::StrCat("must be non-empty letters, digits, '_', '-' or "
                              "'.', and not \".\" or \"..\", got \"",
                              job.name(), "\""));
  }
  if (job.output_dir().empty()) problems.Add("output_dir", "must be set");
  // rounds: 0 is SFT alone (the policy written, and exported if asked).
  ValidateTopology(job.topology(), problems);
  const bool runs_ppo = job.kind() == RLHF;
  if (runs_ppo) ValidateModel("policy", job.policy(), problems);
  ValidateModel("reward_model", job.reward_model(), problems);
  ValidateTask(job.task(), context, problems);
  ValidateSequenceLengths(job, problems);
  if (runs_ppo) ValidateGeneration(job, problems);
  ValidateRewardTraining(job.reward_training(), job.topology(), problems);
  if (runs_ppo) {
    ValidateSft(job.sft(), job.topology(), problems);
    ValidatePpo(job.ppo(), job.topology(), problems);
  }
  if (job.kind() == REWARD_MODEL_ONLY &&
      job.reward_training().mode() == METARM &&
      job.task().meta_responses().empty()) {
    problems.Add("task.meta_responses",
                 "must name the meta set (JSON lines of prompts with k "
                 "responses) for a REWARD_MODEL_ONLY job in a mode other than "
                 "VANILLA");
  }
  problems.AtLeast("checkpoint.keep_last", job.checkpoint().keep_last(), 1);
  // A checkpoint inside a round would have to hold the rollout workers'
  // batches sampled ahead.
  if (job.checkpoint().every_iterations() > 0 &&
      job.ppo().max_staleness() > 0) {
    problems.Add("checkpoint.every_iterations",
                 absl::StrCat("must be 0 (checkpoints at round ends only) "
                              "when ppo.max_staleness > 0, got ",
                              job.checkpoint().every_iterations()));
  }
  problems.AtLeast("eval.num_prompts", job.eval().num_prompts(), 1);
  problems.NonNegative("eval.tie_band", job.eval().tie_band());
  if (job.eval().best_of_n() == 1) {
    problems.Add("eval.best_of_n", "must be 0 (off) or at least 2, got 1");
  }
  if (job.eval().best_of_n() > 0 && job.task().name() == "preference_file" &&
      job.eval().judge().empty()) {
    problems.Add("eval.best_of_n",
                 "needs a judge for its picks: set eval.judge");
  }
  if (!job.eval().judge().empty()) {
    if (job.task().name() != "preference_file") {
      problems.Add("eval.judge",
                   "is for \"preference_file\" jobs; the testbed judges by "
                   "its gold reward");
    }
    problems.PathExists("eval.judge", job.eval().judge());
  }
  return problems.Take();
}

int RequiredWorldSize(const Topology& topology) {
  if (topology.placement() == COLOCATED) {
    return static_cast<int>(topology.learner_ranks());
  }
  return static_cast<int>(topology.learner_ranks() + topology.rollout_ranks());
}

absl::Status CheckWorldSize(const Job& job, int world_size) {
  const int required = RequiredWorldSize(job.topology());
  if (required == world_size) return absl::OkStatus();
  const Topology& topology = job.topology();
  const std::string how =
      topology.placement() == COLOCATED
          ? absl::StrCat("learner_ranks ", topology.learner_ranks(),
                         ", COLOCATED")
          : absl::StrCat("learner_ranks ", topology.learner_ranks(),
                         " + rollout_ranks ", topology.rollout_ranks());
  return absl::InvalidArgumentError(absl::StrCat(
      "topology: the job needs ", required, " ranks (", how,
      ") but was started with ", world_size, " (mpirun -np / srun -n)"));
}

std::string FormatJobErrors(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& problem : problems) {
    absl::StrAppend(&out, "job error: ", problem, "\n");
  }
  return out;
}

}  // namespace metarm
