#include "rlhf/network_gold.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rlhf/judge.h"
#include "tasks/letter_tasks.h"
#include "util/json_file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

constexpr char kField[] = "task.gold_network";

class NetworkGoldTask : public Task {
 public:
  NetworkGoldTask(std::unique_ptr<Task> task, const LetterTask& letters,
                  std::unique_ptr<Judge> network, GoldCalibration calibration)
      : task_(std::move(task)),
        letters_(letters),
        network_(std::move(network)),
        calibration_(calibration) {}

  std::string name() const override { return task_->name(); }
  std::string SamplePrompt(Rng& rng) const override {
    return task_->SamplePrompt(rng);
  }
  std::string Demonstration(const std::string& prompt,
                            Rng& rng) const override {
    return task_->Demonstration(prompt, rng);
  }

  double GoldReward(const std::string& prompt,
                    const std::string& response) const override {
    const std::string ideal = letters_.IdealResponse(prompt);
    if (ideal.empty()) return -1.0;
    const double score = network_->Score({prompt}, {{response}})[0][0];
    const double network =
        std::min(1.0, calibration_.scale * score + calibration_.offset);
    const double w = calibration_.formula_weight;
    const double match = (1 - w) * network + w * PositionMatch(ideal, response);
    return std::max(-1.0, match - LetterPenalties(ideal, response) -
                              LetterRepetition(ideal, response));
  }

 private:
  std::unique_ptr<Task> task_;
  const LetterTask& letters_;  // *task_
  // Score is not const (a judge may keep state); the task's gold is.
  std::unique_ptr<Judge> network_;
  GoldCalibration calibration_;
};

absl::StatusOr<double> FiniteNumber(const nlohmann::json& json,
                                    const std::string& key,
                                    const std::string& path) {
  if (!json.is_object() || !json.contains(key) || !json[key].is_number() ||
      !std::isfinite(json[key].get<double>())) {
    return absl::InvalidArgumentError(absl::StrCat(
        kField, ": ", path, ": \"", key, "\" must be a finite number"));
  }
  return json[key].get<double>();
}

}  // namespace

absl::StatusOr<GoldCalibration> ReadGoldCalibration(const std::string& folder) {
  const std::string path = folder + "/gold.json";
  METARM_ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path), kField);
  GoldCalibration calibration;
  METARM_ASSIGN_OR_RETURN(calibration.scale, FiniteNumber(json, "scale", path));
  METARM_ASSIGN_OR_RETURN(calibration.offset,
                          FiniteNumber(json, "offset", path));
  if (json.contains("formula_weight")) {
    METARM_ASSIGN_OR_RETURN(calibration.formula_weight,
                            FiniteNumber(json, "formula_weight", path));
  }
  if (!(calibration.formula_weight >= 0 && calibration.formula_weight <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        kField, ": ", path, ": \"formula_weight\" must be in [0, 1], got ",
        calibration.formula_weight));
  }
  if (calibration.scale <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(kField, ": ", path,
                     ": \"scale\" must be positive (a higher score is a "
                     "better response), got ",
                     calibration.scale));
  }
  return calibration;
}

absl::StatusOr<std::unique_ptr<Task>> MakeNetworkGoldTask(
    std::unique_ptr<Task> letter_task, const std::string& folder,
    const ChatTokenizer& tokenizer, const SequenceLimits& limits) {
  const auto* letters = dynamic_cast<const LetterTask*>(letter_task.get());
  if (letters == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(kField, ": task \"", letter_task->name(),
                     "\" has no letter-task penalties to keep; the gold "
                     "network is for sort and reverse"));
  }
  METARM_ASSIGN_OR_RETURN(GoldCalibration calibration,
                          ReadGoldCalibration(folder));
  METARM_ASSIGN_OR_RETURN(
      std::unique_ptr<Judge> network,
      LoadJudgeModel(folder, kField, tokenizer, limits, torch::kCPU));
  return std::unique_ptr<Task>(new NetworkGoldTask(
      std::move(letter_task), *letters, std::move(network), calibration));
}

}  // namespace metarm
