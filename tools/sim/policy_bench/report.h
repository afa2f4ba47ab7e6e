// xenballoon-policy-bench: what the runs measured as text: the table, the check of the pressure
// policy's goal against the oracle and classic, and the per-guest CSV. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "run.h"

namespace xenballoon::sim::bench {

// printf into a string (at most 511 bytes).
std::string format(const char* pattern, ...) __attribute__((format(printf, 1, 2)));

double seconds_from_ns(std::uint64_t ns);

// One line per scenario and policy, a blank line between scenarios.
std::string table(const std::vector<RunResult>& results);

// The goals of selfballooning (docs/policies.md, "Goals") for one policy and scenario.
inline constexpr double kStallLimitSecondsPerDay = 150;
inline constexpr double kSpikeStallLimitSecondsPerDay = 600;

struct GoalRow {
  std::string scenario;
  bool present = false;  // the scenario ran the policy, the oracle and classic
  double stall_limit = 0;
  double max_stall_per_day = 0;  // PSI some, seconds per day, the worst guest
  double allocation_vs_oracle_percent = 0;
  double worst_guest_vs_oracle_percent = 0;
  std::uint64_t oom_kills = 0;
  std::uint64_t swapins = 0;
  std::uint64_t classic_swapins = 0;
  unsigned fed_but_stalling = 0;  // guests at or above the oracle's memory, stalling > 150 s/day
  double max_lost_work_per_day = 0;
  bool met = false;
};

// The goals count on the five shipped scenarios; the others are reported the same way.
bool is_shipped_goal_scenario(std::string_view scenario);
double stall_limit_seconds_per_day(std::string_view scenario);
GoalRow goal_row(const std::vector<RunResult>& results, const std::string& scenario,
                 BenchPolicy policy);

// The goals table for `policy`, one line per scenario, and a verdict over the shipped ones.
std::string goal_check(const std::vector<RunResult>& results,
                       const std::vector<std::string>& scenarios, BenchPolicy policy);

// One row per guest and one (guest `*`) per scenario and policy.
std::string csv(const std::vector<RunResult>& results);

}  // namespace xenballoon::sim::bench
