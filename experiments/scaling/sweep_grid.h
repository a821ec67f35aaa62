// A scaling sweep's points: every combination of a grid's axis values
// applied to its base job (proto/sweep.proto), each point a complete,
// validated job of its own.
//
//   absl::StatusOr<SweepGrid> grid =
//   LoadSweepGrid("experiments/scaling/example.pbtxt");
//   absl::StatusOr<std::vector<SweepPoint>> points =
//       ExpandSweep(*grid, grid_path, context, "sweeps/example");
#ifndef METARM_EXPERIMENTS_SCALING_SWEEP_GRID_H_
#define METARM_EXPERIMENTS_SCALING_SWEEP_GRID_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/job.pb.h"
#include "proto/job_validation.h"
#include "proto/sweep.pb.h"

namespace metarm {

struct SweepPoint {
  // "layout-2+1_staleness-0": the axes' names and the point's labels; the
  // point's folder under the sweep's output folder.
  std::string name;
  // (axis name, value label) in the grid's axis order.
  std::vector<std::pair<std::string, std::string>> labels;
  // Defaults applied, data paths absolute or relative to the working folder,
  // output_dir <sweep output>/points/<name>/run, validated.
  Job job;
};

// Reads a grid file. InvalidArgument with "<path>:<line>:<column>: ..." for
// syntax errors; NotFound when it cannot be read.
absl::StatusOr<SweepGrid> LoadSweepGrid(const std::string& path);

// Sets one job field (SweepSetting's comment says how a value is written).
// InvalidArgument naming the field when the path names no singular message
// chain ending in a field, or when the value does not parse for it.
absl::Status ApplySetting(const SweepSetting& setting, Job* job);

// Every point of the grid read from `grid_path`, first axis slowest. The base
// job is read relative to the grid's folder. InvalidArgument listing every
// problem, one a line (the grid's own, then each point's job errors prefixed
// with the point's name), so a bad grid is refused before anything runs.
absl::StatusOr<std::vector<SweepPoint>> ExpandSweep(
    const SweepGrid& grid, const std::string& grid_path,
    const ValidationContext& context, const std::string& output_dir);

}  // namespace metarm

#endif  // METARM_EXPERIMENTS_SCALING_SWEEP_GRID_H_
