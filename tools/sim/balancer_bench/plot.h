// xenballoon-balancer-bench: one PNG per dom0 policy (allocation per guest, host free memory and
// PSI some avg10 per guest over the run) for one seed, drawn by gnuplot when it is in $PATH.
// Writes temporary files and runs a child process; thread-safe (each call its own temporary
// directory).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run.h"

namespace xenballoon::sim::balancer_bench {

// Writes <prefix>-<policy>.png for every run of `seed`; without gnuplot it says so on stderr
// and succeeds.
Result<void> plot(const std::vector<RunResult>& results, std::uint64_t seed,
                  const std::string& prefix);

}  // namespace xenballoon::sim::balancer_bench
