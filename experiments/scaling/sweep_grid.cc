#include "experiments/scaling/sweep_grid.h"

#include <cctype>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "proto/job_io.h"
#include "proto/job_loader.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// One axis value with its label, whichever way the grid wrote it.
struct AxisValue {
  std::string label;
  std::vector<SweepSetting> settings;
};

struct Axis {
  std::string name;
  std::vector<AxisValue> values;
};

// Labels and axis names become folder names: a small, safe alphabet.
bool IsLabel(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '+' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

// The shorthand's label: the value's text without what a folder name may not
// hold (quotes, braces, spaces): "cuda" -> cuda.
std::string LabelOf(const std::string& value) {
  std::string label;
  for (char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' ||
        c == '-') {
      label += c;
    }
  }
  return label;
}

// The parser's complaints, without positions (they point into the text
// built from the setting, not into the grid file).
class MessageCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, int, const std::string& message) override {
    messages_.push_back(message);
  }
  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }
  std::string Joined() const { return absl::StrJoin(messages_, "; "); }

 private:
  std::vector<std::string> messages_;
};

// The grid's axes in one form, every problem of their own listed.
std::vector<Axis> ReadAxes(const SweepGrid& grid,
                           std::vector<std::string>& problems) {
  std::vector<Axis> axes;
  std::set<std::string> axis_names;
  for (const SweepAxis& given : grid.axis()) {
    Axis axis{given.name(), {}};
    const std::string where = absl::StrCat("axis '", given.name(), "'");
    if (!IsLabel(given.name())) {
      problems.push_back(absl::StrCat(
          where, ": name must be letters, digits, '.', '+' or '-'"));
    }
    if (!axis_names.insert(given.name()).second) {
      problems.push_back(absl::StrCat(where, ": a second axis of that name"));
    }
    const bool shorthand = !given.field().empty() || given.values_size() > 0;
    if (shorthand && given.value_size() > 0) {
      problems.push_back(absl::StrCat(
          where,
          ": give either field with values, or value entries, not both"));
    }
    if (shorthand) {
      if (given.field().empty()) {
        problems.push_back(absl::StrCat(where, ": values without a field"));
      }
      for (const std::string& value : given.values()) {
        SweepSetting setting;
        setting.set_field(given.field());
        setting.set_value(value);
        axis.values.push_back({LabelOf(value), {setting}});
      }
    }
    for (const SweepValue& value : given.value()) {
      axis.values.push_back(
          {value.label(), {value.set().begin(), value.set().end()}});
    }
    if (axis.values.empty()) {
      problems.push_back(absl::StrCat(where, ": no values"));
    }
    std::set<std::string> labels;
    for (const AxisValue& value : axis.values) {
      if (!IsLabel(value.label)) {
        problems.push_back(absl::StrCat(
            where, ": value label '", value.label,
            "' must be letters, digits, '.', '+' or '-' (give the value as "
            "value { label: ... set { ... } })"));
      } else if (!labels.insert(value.label).second) {
        problems.push_back(
            absl::StrCat(where, ": two values labelled '", value.label, "'"));
      }
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

// Applies every setting, each problem listed under `where`.
void ApplySettings(const std::vector<SweepSetting>& settings,
                   const std::string& where, Job* job,
                   std::vector<std::string>& problems) {
  for (const SweepSetting& setting : settings) {
    absl::Status applied = ApplySetting(setting, job);
    if (!applied.ok()) {
      problems.push_back(absl::StrCat(where, ": ", applied.message()));
    }
  }
}

std::string PointName(const std::vector<Axis>& axes,
                      const std::vector<size_t>& choice) {
  if (axes.empty()) return "base";
  std::vector<std::string> parts;
  for (size_t a = 0; a < axes.size(); ++a) {
    parts.push_back(
        absl::StrCat(axes[a].name, "-", axes[a].values[choice[a]].label));
  }
  return absl::StrJoin(parts, "_");
}

// The next combination, last axis fastest; false after the last one.
bool NextChoice(const std::vector<Axis>& axes, std::vector<size_t>& choice) {
  for (size_t a = axes.size(); a-- > 0;) {
    if (++choice[a] < axes[a].values.size()) return true;
    choice[a] = 0;
  }
  return false;
}

// Every problem, one a line, each naming the grid file.
absl::Status GridErrors(const std::string& grid_path,
                        const std::vector<std::string>& problems) {
  std::vector<std::string> lines;
  for (const std::string& problem : problems) {
    lines.push_back(absl::StrCat(grid_path, ": ", problem));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace

absl::StatusOr<SweepGrid> LoadSweepGrid(const std::string& path) {
  METARM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  SweepGrid grid;
  METARM_RETURN_IF_ERROR(ParseTextInto(text, path, &grid));
  return grid;
}

absl::Status ApplySetting(const SweepSetting& setting, Job* job) {
  const std::string where = absl::StrCat("field '", setting.field(), "'");
  if (setting.field() == "output_dir") {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": the sweep gives every point its own output folder"));
  }
  std::vector<std::string> path = absl::StrSplit(setting.field(), '.');
  Message* message = job;
  for (size_t i = 0; i < path.size(); ++i) {
    const FieldDescriptor* field =
        message->GetDescriptor()->FindFieldByName(path[i]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", message->GetDescriptor()->name(),
                       " has no field '", path[i], "'"));
    }
    if (i + 1 == path.size()) {
      // A repeated field takes the setting's values instead of its own.
      if (field->is_repeated()) {
        message->GetReflection()->ClearField(message, field);
      }
      break;
    }
    if (field->type() != FieldDescriptor::TYPE_MESSAGE ||
        field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": '", path[i], "' is not a message a path can go through"));
    }
    message = message->GetReflection()->MutableMessage(message, field);
  }
  // "a.b.c" = V becomes "c: V" merged into a.b: text format parses V for the
  // field's type (numbers, enums, strings, lists, messages).
  const std::string text = absl::StrCat(path.back(), ": ", setting.value());
  MessageCollector collector;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  if (!parser.MergeFromString(text, message)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": cannot take the value '", setting.value(),
                     "': ", collector.Joined()));
  }
  return absl::OkStatus();
}

namespace {

// The base job as parsed (no defaults yet: the settings go in first), or a
// problem naming it.
absl::StatusOr<Job> ReadBaseJob(const std::filesystem::path& path) {
  METARM_ASSIGN_OR_RETURN(std::string text, ReadFile(path.string()));
  return ParseJobText(text, path.string());
}

// The grid's own settings applied to `base`, and each axis value tried once
// on it, so that a bad value is one line, not one per point it is part of.
void ApplyGridSettings(const SweepGrid& grid, const std::vector<Axis>& axes,
                       Job* base, std::vector<std::string>& problems) {
  ApplySettings({grid.set().begin(), grid.set().end()}, "set", base, problems);
  for (const Axis& axis : axes) {
    for (const AxisValue& value : axis.values) {
      Job probe = *base;
      ApplySettings(
          value.settings,
          absl::StrCat("axis '", axis.name, "' value '", value.label, "'"),
          &probe, problems);
    }
  }
}

// The point of one combination of axis values: its settings on the base
// job, then the defaults and the trainer's validation (problems listed under
// the point's name).
absl::StatusOr<SweepPoint> MakePoint(const std::vector<Axis>& axes,
                                     const std::vector<size_t>& choice,
                                     const Job& base,
                                     const std::string& base_dir,
                                     const ValidationContext& context,
                                     const std::string& output_dir) {
  SweepPoint point;
  point.name = PointName(axes, choice);
  Job job = base;
  for (size_t a = 0; a < axes.size(); ++a) {
    const AxisValue& value = axes[a].values[choice[a]];
    point.labels.emplace_back(axes[a].name, value.label);
    for (const SweepSetting& setting : value.settings) {
      METARM_RETURN_IF_ERROR(ApplySetting(setting, &job));
    }
  }
  job.set_output_dir(absl::StrCat(output_dir, "/points/", point.name, "/run"));
  METARM_ASSIGN_OR_RETURN(
      point.job, JobFromText(JobToText(job), absl::StrCat("point ", point.name),
                             context, base_dir));
  return point;
}

}  // namespace

absl::StatusOr<std::vector<SweepPoint>> ExpandSweep(
    const SweepGrid& grid, const std::string& grid_path,
    const ValidationContext& context, const std::string& output_dir) {
  std::vector<std::string> problems;
  std::vector<Axis> axes = ReadAxes(grid, problems);
  if (grid.base_job().empty()) {
    problems.push_back("base_job: not given");
    return GridErrors(grid_path, problems);
  }
  const std::filesystem::path base_path = std::filesystem::absolute(
      std::filesystem::path(grid_path).parent_path() / grid.base_job());
  absl::StatusOr<Job> base = ReadBaseJob(base_path);
  if (!base.ok()) {
    problems.push_back(absl::StrCat("base_job: ", base.status().message()));
    return GridErrors(grid_path, problems);
  }
  ApplyGridSettings(grid, axes, &*base, problems);
  if (!problems.empty()) return GridErrors(grid_path, problems);

  std::vector<SweepPoint> points;
  std::vector<size_t> choice(axes.size(), 0);
  do {
    absl::StatusOr<SweepPoint> point =
        MakePoint(axes, choice, *base, base_path.parent_path().string(),
                  context, output_dir);
    if (point.ok()) {
      points.push_back(*std::move(point));
      continue;
    }
    for (absl::string_view line :
         absl::StrSplit(point.status().message(), '\n')) {
      problems.push_back(
          absl::StrCat("point ", PointName(axes, choice), ": ", line));
    }
  } while (NextChoice(axes, choice));
  if (!problems.empty()) return GridErrors(grid_path, problems);
  return points;
}

}  // namespace metarm
