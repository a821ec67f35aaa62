#include "proto/job_loader.h"

#include "absl/strings/str_cat.h"
#include "proto/job_defaults.h"
#include "proto/job_io.h"

namespace metarm {

namespace {

std::string Resolved(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return absl::StrCat(base_dir, "/", path);
}

}  // namespace

void ResolveDataPaths(const std::string& base_dir, Job* job) {
  TaskSpec* task = job->mutable_task();
  task->set_train_pairs(Resolved(base_dir, task->train_pairs()));
  task->set_eval_pairs(Resolved(base_dir, task->eval_pairs()));
  task->set_meta_responses(Resolved(base_dir, task->meta_responses()));
  task->set_eval_responses(Resolved(base_dir, task->eval_responses()));
  task->set_shifted_pairs(Resolved(base_dir, task->shifted_pairs()));
  if (task->tokenizer() != "byte") {
    task->set_tokenizer(Resolved(base_dir, task->tokenizer()));
  }
  for (ModelSpec* model :
       {job->mutable_policy(), job->mutable_reward_model()}) {
    model->set_checkpoint(Resolved(base_dir, model->checkpoint()));
  }
}

absl::StatusOr<Job> JobFromText(absl::string_view text,
                                absl::string_view source_name,
                                const ValidationContext& context,
                                const std::string& base_dir) {
  absl::StatusOr<Job> job = ParseJobText(text, source_name);
  if (!job.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job error: ", job.status().message()));
  }
  ApplyJobDefaults(&*job);
  ResolveDataPaths(base_dir, &*job);
  std::vector<std::string> problems = ValidateJob(*job, context);
  if (!problems.empty()) {
    std::string message = FormatJobErrors(problems);
    message.pop_back();  // the trailing newline
    return absl::InvalidArgumentError(message);
  }
  return job;
}

}  // namespace metarm
