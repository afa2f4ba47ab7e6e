// xenballoon-policy-bench: what the runs measured as text: the table, the check of the pressure
// policy's goal against the oracle and classic, and the per-guest CSV. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run.h"

namespace xenballoon::sim::bench {

// printf into a string (at most 511 bytes).
std::string format(const char* pattern, ...) __attribute__((format(printf, 1, 2)));

double seconds_from_ns(std::uint64_t ns);

// One line per scenario and policy, a blank line between scenarios.
std::string table(const std::vector<RunResult>& results);

// The goal for `pressure`: mean allocation within 10 % of the oracle's, swap-ins at
// most 10 % of classic's, no OOM kill.
std::string goal_check(const std::vector<RunResult>& results,
                       const std::vector<std::string>& scenarios);

// One row per guest and one (guest `*`) per scenario and policy.
std::string csv(const std::vector<RunResult>& results);

}  // namespace xenballoon::sim::bench
