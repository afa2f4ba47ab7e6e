// xenballoon-balancer-bench: what the runs measured as text: the table (one row per policy and
// seed, then the mean over the seeds), the check of the balancer's goals against selfballooning
// alone, and the time-series CSV. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "run.h"

namespace xenballoon::sim::balancer_bench {

// printf into a string (at most 511 bytes).
std::string format(const char* pattern, ...) __attribute__((format(printf, 1, 2)));

// Per seed, one line per policy, a blank line between seeds; then the mean over the seeds.
std::string table(const std::vector<RunResult>& results, const std::vector<std::uint64_t>& seeds);

// The goals for `balancer` (on the means over the seeds): 0 OOM kills, >= 50 % fewer swap-ins
// and >= 50 % less PSI some stall than `selfballoon`, host memory idle while any guest stalls
// <= 5 % of the host; PASS or MISSED each.
std::string goal_check(const std::vector<RunResult>& results);

// The time series: one row per run, sample and guest.
std::string csv(const std::vector<RunResult>& results);

}  // namespace xenballoon::sim::balancer_bench
