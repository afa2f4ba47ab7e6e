// A seeded random source that gives the same sequence on every platform and standard library
// (the std:: distributions do not), so a scenario replays byte for byte.
#pragma once

#include <cstdint>

namespace xenballoon::sim {

// xoshiro256** seeded through splitmix64. A plain value: copying it forks the sequence.
// Not thread-safe.
class Random {
 public:
  explicit Random(std::uint64_t seed);

  std::uint64_t next_u64();
  // Uniform in [0, 1), 53 bits.
  double uniform();
  // Mean 0, variance 1: the sum of 12 uniforms minus 6 (no libm, so identical everywhere).
  double standard_normal();
  // floor(expected) plus one with probability frac(expected): unbiased integer counts of events
  // whose expected number per step is fractional. Negative input gives 0.
  std::uint64_t round_stochastic(double expected);

  bool operator==(const Random&) const = default;

 private:
  std::uint64_t state_[4];
};

}  // namespace xenballoon::sim
