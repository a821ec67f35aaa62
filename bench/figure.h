// Benchmark figures with their spread, as the JSON lines bench/summarize.py
// reads: {"name", "value" (the median), "median", "min", "max", "repeats",
// "samples", "unit", "shapes", "check"}.
//
// A figure is never one timing: a shared machine moves single timings by 2x.
// Times are repeated; a ratio is measured as interleaved pairs (the step, then
// its reference, again and again) and reported as the median of the per-pair
// ratios with their range, so a burst of load hits both sides of a pair.
//
//   Samples cache, recompute;
//   TimePairs(Stopwatch(), [&] { Cached(); }, [&] { Recomputed(); }, 5,
//             &cache, &recompute);
//   PrintFigure("speedup", Ratios(recompute, cache), "x", shapes, "ok");
#ifndef METARM_BENCH_FIGURE_H_
#define METARM_BENCH_FIGURE_H_

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace metarm {

// Repeated measurements of one figure.
using Samples = std::vector<double>;

inline double Median(Samples values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Seconds one call of `call` takes; how is the caller's (one process's
// stopwatch, or the slowest rank of a group).
using TimeOnce = std::function<double(const std::function<void()>& call)>;

inline TimeOnce Stopwatch() {
  return [](const std::function<void()>& call) {
    const auto start = std::chrono::steady_clock::now();
    call();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
}

// `repeats` timings of `call` after one untimed warm-up; `after_each` (if
// given) runs untimed right after each timing: the other half of a pair
// timed elsewhere (bench/python_turns.h).
inline Samples TimeRepeats(const TimeOnce& time,
                           const std::function<void()>& call, int repeats,
                           const std::function<void()>& after_each = {}) {
  call();
  Samples seconds;
  for (int i = 0; i < repeats; ++i) {
    seconds.push_back(time(call));
    if (after_each) after_each();
  }
  return seconds;
}

// Interleaved timings of `a` and `b` (a, b, a, b, ...) after a warm-up of
// each: pair i of `a_seconds` and `b_seconds` ran back to back.
inline void TimePairs(const TimeOnce& time, const std::function<void()>& a,
                      const std::function<void()>& b, int repeats,
                      Samples* a_seconds, Samples* b_seconds) {
  a();
  b();
  for (int i = 0; i < repeats; ++i) {
    a_seconds->push_back(time(a));
    b_seconds->push_back(time(b));
  }
}

// Element by element: numerator[i] / denominator[i] · scale.
inline Samples Ratios(const Samples& numerator, const Samples& denominator,
                      double scale = 1.0) {
  Samples out;
  for (size_t i = 0; i < numerator.size() && i < denominator.size(); ++i) {
    out.push_back(scale * numerator[i] / denominator[i]);
  }
  return out;
}

// scale / each value (a time into a rate).
inline Samples Rates(const Samples& seconds, double scale) {
  Samples out;
  for (double s : seconds) out.push_back(scale / s);
  return out;
}

inline void PrintFigure(const std::string& name, const Samples& samples,
                        const std::string& unit, const nlohmann::json& shapes,
                        const std::string& check) {
  const double median = Median(samples);
  const auto [low, high] = std::minmax_element(samples.begin(), samples.end());
  const bool any = !samples.empty();
  std::cout << nlohmann::json{{"name", name},
                              {"value", median},
                              {"median", median},
                              {"min", any ? *low : 0.0},
                              {"max", any ? *high : 0.0},
                              {"repeats", samples.size()},
                              {"samples", samples},
                              {"unit", unit},
                              {"shapes", shapes},
                              {"check", check}}
                   .dump()
            << std::endl;
}

// A figure that is not a timing (a byte count, a difference): one value.
inline void PrintExact(const std::string& name, double value,
                       const std::string& unit, const nlohmann::json& shapes,
                       const std::string& check) {
  PrintFigure(name, Samples{value}, unit, shapes, check);
}

}  // namespace metarm

#endif  // METARM_BENCH_FIGURE_H_
