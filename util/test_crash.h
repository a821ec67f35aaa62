// Test-only fault injection: with METARM_TEST_CRASH=<point>:<n> in the
// environment, the process kills itself with SIGKILL the n-th time it passes
// CrashPointForTest(<point>). The kill-and-resume tests use it to hit moments
// a random kill rarely finds (inside a checkpoint write, at a round's end).
// Without the variable it does nothing.
#ifndef METARM_UTIL_TEST_CRASH_H_
#define METARM_UTIL_TEST_CRASH_H_

#include <csignal>
#include <cstdlib>
#include <string>

namespace metarm {

inline void CrashPointForTest(const std::string& point) {
  const char* spec = std::getenv("METARM_TEST_CRASH");
  if (spec == nullptr) return;
  const std::string text = spec;
  const size_t colon = text.find(':');
  if (colon == std::string::npos || text.substr(0, colon) != point) return;
  static int passes = 0;  // only one point is armed per process
  if (++passes == std::atoi(text.c_str() + colon + 1)) std::raise(SIGKILL);
}

}  // namespace metarm

#endif  // METARM_UTIL_TEST_CRASH_H_
