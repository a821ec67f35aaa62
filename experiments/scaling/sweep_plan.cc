// metarm_sweep_plan: expands a sweep grid (proto/sweep.proto) into one job
// file per point and a plan that experiments/scaling/sweep.py runs and
// reports from. Every point is validated as the trainer would validate it
// before anything is written; a bad grid exits 2 with every problem listed.
//
//   metarm_sweep_plan --grid=experiments/scaling/example.pbtxt
//   --output_dir=sweeps/x
//
// Writes OUTPUT_DIR/points/<point>/job.pbtxt (its output_dir is
// OUTPUT_DIR/points/<point>/run) and OUTPUT_DIR/sweep_plan.json. Running it
// again on the same folder rewrites nothing that differs: a point whose job
// changed since it ran is an error (use a new folder).
#include <filesystem>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "experiments/scaling/sweep_grid.h"
#include "nlohmann/json.hpp"
#include "proto/job_io.h"
#include "proto/job_validation.h"
#include "tasks/task_registry.h"
#include "training/memory_plan.h"
#include "util/file.h"
#include "util/status_macros.h"

ABSL_FLAG(std::string, grid, "", "The sweep grid (protobuf text).");
ABSL_FLAG(std::string, output_dir, "",
          "Where the points' jobs, runs and the report go.");

namespace metarm {
namespace {

constexpr int kExitBadInput = 2;

using Json = nlohmann::json;

// The models' sizes as the trainer will build them, and what the memory
// plan says each kind of rank holds.
absl::StatusOr<Json> ModelFacts(const Job& job) {
  METARM_ASSIGN_OR_RETURN(JobModelConfigs configs, MakeJobModelConfigs(job));
  const TransformerConfig& policy = configs.policy;
  const TransformerConfig& reward = configs.reward_model;
  Json memory = Json::object();
  for (const RankMemory& rank :
       PlanMemory(job, policy, reward, configs.judge).ranks) {
    memory[rank.role] = rank.TotalBytes();
  }
  return Json{
      {"policy",
       {{"d_model", policy.d_model},
        {"n_layers", policy.n_layers},
        {"n_heads", policy.n_heads},
        {"d_ff", policy.d_ff},
        {"vocab_size", policy.vocab_size},
        {"parameters", ParameterCount(policy, /*lm_head=*/true)},
        {"critic_parameters", ParameterCount(policy, /*lm_head=*/false)}}},
      {"reward_model_parameters", ParameterCount(reward, /*lm_head=*/false)},
      {"memory_bytes_per_rank", memory},
  };
}

// What the report and the α-β model need to know of a point's job, so that
// they need not read protobuf text.
absl::StatusOr<Json> PointFacts(const Job& job) {
  METARM_ASSIGN_OR_RETURN(Json facts, ModelFacts(job));
  const Topology& topology = job.topology();
  facts.update({
      {"world_size", RequiredWorldSize(topology)},
      {"learner_ranks", topology.learner_ranks()},
      {"rollout_ranks", topology.rollout_ranks()},
      {"placement", Placement_Name(topology.placement())},
      {"shard_optimizer_state", topology.shard_optimizer_state()},
      {"max_prompt_tokens", job.task().max_prompt_tokens()},
      {"max_response_tokens", job.task().max_response_tokens()},
      {"rollout_batch_size", job.ppo().rollout_batch_size()},
      {"minibatch_size", job.ppo().minibatch_size()},
      {"ppo_epochs", job.ppo().epochs()},
      {"iterations_per_round", job.ppo().iterations_per_round()},
      {"max_staleness", job.ppo().max_staleness()},
      {"rounds", job.rounds()},
  });
  return facts;
}

std::string JobFileText(const SweepPoint& point, const std::string& sweep) {
  return absl::StrCat("# Point ", point.name, " of the sweep '", sweep,
                      "' (written by metarm_sweep_plan).\n",
                      JobToText(point.job));
}

// Every point's job file, or the points whose file changed since they ran.
absl::Status WritePlan(const std::string& grid_path, const SweepGrid& grid,
                       const std::vector<SweepPoint>& points,
                       const std::string& output_dir) {
  std::vector<std::string> changed;
  for (const SweepPoint& point : points) {
    const std::string path =
        absl::StrCat(output_dir, "/points/", point.name, "/job.pbtxt");
    if (!PathExists(path)) continue;
    METARM_ASSIGN_OR_RETURN(std::string old_text, ReadFile(path));
    if (old_text != JobFileText(point, grid.name())) {
      changed.push_back(absl::StrCat(
          path,
          ": the point's job differs from the one this folder ran "
          "(the grid or its base job changed); use a new --output_dir"));
    }
  }
  if (!changed.empty()) {
    return absl::FailedPreconditionError(absl::StrJoin(changed, "\n"));
  }
  // The whole plan first (the facts can fail), then the files.
  Json plan = {{"name", grid.name()},
               {"grid", std::filesystem::absolute(grid_path).string()},
               {"output_dir", output_dir},
               {"axes", Json::array()},
               {"points", Json::array()}};
  for (const SweepAxis& axis : grid.axis()) plan["axes"].push_back(axis.name());
  for (size_t i = 0; i < points.size(); ++i) {
    const SweepPoint& point = points[i];
    const std::string folder = absl::StrCat(output_dir, "/points/", point.name);
    METARM_ASSIGN_OR_RETURN(Json facts, PointFacts(point.job), "point ",
                            point.name);
    Json labels = Json::object();
    for (const auto& [axis, label] : point.labels) labels[axis] = label;
    plan["points"].push_back({{"index", i},
                              {"name", point.name},
                              {"labels", labels},
                              {"folder", folder},
                              {"job", absl::StrCat(folder, "/job.pbtxt")},
                              {"run_dir", point.job.output_dir()},
                              {"facts", facts}});
  }
  for (const SweepPoint& point : points) {
    const std::string folder = absl::StrCat(output_dir, "/points/", point.name);
    METARM_RETURN_IF_ERROR(MakeDirectories(folder));
    METARM_RETURN_IF_ERROR(WriteFileAtomically(
        absl::StrCat(folder, "/job.pbtxt"), JobFileText(point, grid.name())));
  }
  return WriteFileAtomically(absl::StrCat(output_dir, "/sweep_plan.json"),
                             plan.dump(1) + "\n");
}

int Plan(const std::string& grid_path, const std::string& output_flag) {
  if (grid_path.empty() || output_flag.empty()) {
    std::cerr << "usage: metarm_sweep_plan --grid=GRID --output_dir=DIR\n";
    return kExitBadInput;
  }
  absl::StatusOr<SweepGrid> grid = LoadSweepGrid(grid_path);
  if (!grid.ok()) {
    std::cerr << "sweep error: " << grid.status().message() << "\n";
    return kExitBadInput;
  }
  SweepGrid named = *grid;
  if (named.name().empty()) {
    named.set_name(std::filesystem::path(grid_path).stem().string());
  }
  const std::string output_dir =
      std::filesystem::absolute(output_flag).lexically_normal().string();
  absl::StatusOr<std::vector<SweepPoint>> points = ExpandSweep(
      named, grid_path, ValidationContext{KnownTaskNames()}, output_dir);
  absl::Status written = points.ok()
                             ? WritePlan(grid_path, named, *points, output_dir)
                             : points.status();
  if (!written.ok()) {
    std::cerr << "sweep error: " << written.message() << "\n";
    return kExitBadInput;
  }
  std::cerr << "metarm_sweep_plan: " << points->size() << " points of sweep '"
            << named.name() << "' in " << output_dir << "\n";
  return 0;
}

}  // namespace
}  // namespace metarm

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return metarm::Plan(absl::GetFlag(FLAGS_grid),
                      absl::GetFlag(FLAGS_output_dir));
}
