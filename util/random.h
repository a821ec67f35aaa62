// A small deterministic random number generator (SplitMix64) for data
// generation: the same seed gives the same stream on every platform, which
// std::uniform_int_distribution does not promise.
//
//   Rng rng(seed);
//   int64_t die = 1 + rng.Below(6);
//   double u = rng.Uniform();
#ifndef METARM_UTIL_RANDOM_H_
#define METARM_UTIL_RANDOM_H_

#include <cstdint>

namespace metarm {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n), n > 0 (modulo bias below 2^-40 for n < 2^24).
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % n); }

  // Uniform in [low, high].
  int64_t Between(int64_t low, int64_t high) {
    return low + Below(high - low + 1);
  }

  // Uniform in [0, 1).
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

}  // namespace metarm

#endif  // METARM_UTIL_RANDOM_H_
