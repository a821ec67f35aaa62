#include "optim/adamw_file.h"

#include "absl/strings/str_cat.h"
#include "util/archive_file.h"

namespace metarm {
namespace {

// The key torch::optim keeps a parameter's state under (its TensorImpl's
// address, as torch/csrc/api/src/optim/adamw.cpp looks it up).
std::string StateKey(const torch::Tensor& parameter) {
  return c10::guts::to_string(parameter.unsafeGetTensorImpl());
}

}  // namespace

absl::Status SaveAdamW(torch::optim::AdamW& optimizer,
                       const std::string& path) {
  torch::serialize::OutputArchive archive;
  try {
    optimizer.save(archive);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat(path, ": cannot serialize the optimizer state: ",
                     e.what_without_backtrace()));
  }
  return WriteArchiveAtomically(archive, path);
}

absl::Status LoadAdamW(torch::optim::AdamW& optimizer, const std::string& path,
                       const torch::Device& device) {
  try {
    torch::load(optimizer, path, device);
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat(
        path, ": not an optimizer state: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

torch::optim::AdamWParamState* FindAdamWState(torch::optim::AdamW& optimizer,
                                              const torch::Tensor& parameter) {
  auto found = optimizer.state().find(StateKey(parameter));
  if (found == optimizer.state().end()) return nullptr;
  return static_cast<torch::optim::AdamWParamState*>(found->second.get());
}

void SetAdamWState(torch::optim::AdamW& optimizer,
                   const torch::Tensor& parameter, int64_t step,
                   torch::Tensor exp_avg, torch::Tensor exp_avg_sq) {
  auto state = std::make_unique<torch::optim::AdamWParamState>();
  state->step(step);
  state->exp_avg(std::move(exp_avg));
  state->exp_avg_sq(std::move(exp_avg_sq));
  optimizer.state()[StateKey(parameter)] = std::move(state);
}

}  // namespace metarm
