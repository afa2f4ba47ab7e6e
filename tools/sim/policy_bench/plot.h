// xenballoon-policy-bench: the figure, one panel per scenario (rows) and policy (columns) for each
// scenario's first guest, drawn by gnuplot when it is in $PATH. Writes temporary files and runs a
// child process; thread-safe (each call its own temporary directory).
#pragma once

#include <string>
#include <vector>

#include "run.h"

namespace xenballoon::sim::bench {

// Writes the PNG to `png_path`; without gnuplot it says so on stderr and succeeds.
Result<void> plot(const std::vector<RunResult>& results, const std::vector<std::string>& scenarios,
                  const std::string& png_path);

// One PNG per scenario in `dir` (<scenario>.png), for its first guest over the run: above, the
// memory it needs, the oracle's allocation, `candidate`'s and `pressure`'s; below, the PSI some
// stall of both per minute. Without gnuplot it says so on stderr and succeeds.
Result<void> plot_scenarios(const std::vector<RunResult>& results,
                            const std::vector<std::string>& scenarios, BenchPolicy candidate,
                            const std::string& dir);

}  // namespace xenballoon::sim::bench
