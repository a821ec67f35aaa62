// The Python peer's half of each Python/C++ pair: after every timed C++
// call, the benchmark asks bench/python_peer.py (started with --serve) to
// time the same step once, so the two timings of a pair run back to back
// and a load burst on this shared machine hits both. Each ratio is then the
// median of per-pair ratios with its range, like every other ratio
// (bench/figure.h).
//
//   METARM_ASSIGN_OR_RETURN(auto turns, PythonTurns::Start(argv));
//   ... time one C++ metarm step; turns->Take("metarm_step", 128); ...
//   turns->EmitStep("metarm_step", 128, cpp_seconds, shapes);
//
// A peer that fails (exits, replies with an error) stops taking turns; the
// figures already paired are kept and carry the failure as their check.
#ifndef METARM_BENCH_PYTHON_TURNS_H_
#define METARM_BENCH_PYTHON_TURNS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/figure.h"
#include "bench/peer_process.h"
#include "nlohmann/json.hpp"

namespace metarm {

class PythonTurns {
 public:
  // Runs `argv` (python3, bench/python_peer.py, --serve and the shapes) and
  // waits for its "ready ..." line.
  static absl::StatusOr<std::unique_ptr<PythonTurns>> Start(
      const std::vector<std::string>& argv);

  // The peer times `step` at `d_model` once (after a warm-up the first
  // time); its seconds are recorded as the next sample of that step.
  void Take(const std::string& step, int64_t d_model);

  // python_<step>_seconds and python_over_cpp_<step>: Python time / C++
  // time, pair by pair, with `cpp_seconds` in the order they were taken.
  void EmitStep(const std::string& step, int64_t d_model,
                const Samples& cpp_seconds, const nlohmann::json& shapes) const;

  // For generation: python_<rate_name> (tokens / seconds) and `ratio_name`
  // (C++ tokens/s over the peer's, pair by pair: both generate `tokens`;
  // `peer_name` names the peer's side in the unit).
  void EmitRate(const std::string& step, int64_t d_model,
                const Samples& cpp_seconds, double tokens,
                const std::string& rate_name, const std::string& ratio_name,
                const std::string& peer_name,
                const nlohmann::json& shapes) const;

 private:
  PythonTurns(std::unique_ptr<PeerProcess> peer, std::string ready)
      : peer_(std::move(peer)), ready_(std::move(ready)) {}

  static std::string Key(const std::string& step, int64_t d_model);
  // "ok", or why the peer's samples of this step are missing or cut short.
  std::string Check(const std::string& key) const;
  Samples SecondsOf(const std::string& key) const;
  nlohmann::json PeerShapes(const nlohmann::json& shapes) const;

  std::unique_ptr<PeerProcess> peer_;
  std::string ready_;  // the peer's first line: its torch version, threads
  std::map<std::string, Samples> seconds_;
  std::map<std::string, std::string> unavailable_;  // key: the peer's reason
  std::string failure_;  // set once the peer failed; no more turns after it
};

}  // namespace metarm

#endif  // METARM_BENCH_PYTHON_TURNS_H_
