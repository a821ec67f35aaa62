#include "bench/python_turns.h"

#include <cerrno>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace metarm {

absl::StatusOr<std::unique_ptr<PythonTurns>> PythonTurns::Start(
    const std::vector<std::string>& argv) {
  absl::StatusOr<std::unique_ptr<PeerProcess>> peer = PeerProcess::Start(argv);
  if (!peer.ok()) return peer.status();
  absl::StatusOr<std::string> ready = (*peer)->ReadLine();
  if (!ready.ok()) {
    return absl::Status(ready.status().code(),
                        absl::StrCat("the Python peer did not start: ",
                                     ready.status().message()));
  }
  if (!absl::StartsWith(*ready, "ready ")) {
    return absl::InternalError(absl::StrCat(
        "the Python peer's first line is \"", *ready, "\", not \"ready ...\""));
  }
  return std::unique_ptr<PythonTurns>(new PythonTurns(
      std::move(*peer), std::string(absl::StripPrefix(*ready, "ready "))));
}

std::string PythonTurns::Key(const std::string& step, int64_t d_model) {
  return absl::StrCat(step, "@", d_model);
}

void PythonTurns::Take(const std::string& step, int64_t d_model) {
  const std::string key = Key(step, d_model);
  if (!failure_.empty() || unavailable_.count(key) > 0) return;
  absl::StatusOr<std::string> reply =
      peer_->Ask(absl::StrCat(step, " ", d_model));
  if (!reply.ok()) {
    failure_ = std::string(reply.status().message());
    return;
  }
  if (absl::StartsWith(*reply, "unavailable ")) {
    unavailable_[key] = std::string(absl::StripPrefix(*reply, "unavailable "));
    return;
  }
  char* end = nullptr;
  errno = 0;
  const double seconds = std::strtod(reply->c_str(), &end);
  if (errno != 0 || end == reply->c_str() || *end != '\0' || !(seconds > 0)) {
    failure_ = absl::StrCat("the Python peer replied \"", *reply, "\" to \"",
                            key, "\", not its seconds");
    return;
  }
  seconds_[key].push_back(seconds);
}

std::string PythonTurns::Check(const std::string& key) const {
  const auto reason = unavailable_.find(key);
  if (reason != unavailable_.end()) {
    return "not measured: " + reason->second;
  }
  if (!failure_.empty()) return "Python peer: " + failure_;
  if (seconds_.count(key) == 0) return "Python peer: no turn was taken";
  return "ok";
}

Samples PythonTurns::SecondsOf(const std::string& key) const {
  const auto found = seconds_.find(key);
  return found == seconds_.end() ? Samples() : found->second;
}

nlohmann::json PythonTurns::PeerShapes(const nlohmann::json& shapes) const {
  nlohmann::json out = shapes;
  out["peer"] = "bench/python_peer.py --serve, " + ready_;
  return out;
}

void PythonTurns::EmitStep(const std::string& step, int64_t d_model,
                           const Samples& cpp_seconds,
                           const nlohmann::json& shapes) const {
  const std::string key = Key(step, d_model);
  const Samples python = SecondsOf(key);
  const std::string check = Check(key);
  PrintFigure("python_" + step + "_seconds", python, "s (this machine)",
              PeerShapes(shapes), check);
  PrintFigure("python_over_cpp_" + step, Ratios(python, cpp_seconds),
              "x (Python time / C++ time, same pair)", PeerShapes(shapes),
              check);
}

void PythonTurns::EmitRate(const std::string& step, int64_t d_model,
                           const Samples& cpp_seconds, double tokens,
                           const std::string& rate_name,
                           const std::string& ratio_name,
                           const std::string& peer_name,
                           const nlohmann::json& shapes) const {
  const std::string key = Key(step, d_model);
  const Samples python = SecondsOf(key);
  const std::string check = Check(key);
  PrintFigure("python_" + rate_name, Rates(python, tokens), "tokens/s",
              PeerShapes(shapes), check);
  PrintFigure(ratio_name, Ratios(python, cpp_seconds),
              "x (C++ tokens/s / " + peer_name + " tokens/s, same pair)",
              PeerShapes(shapes), check);
}

}  // namespace metarm
