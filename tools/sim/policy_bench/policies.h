// xenballoon-policy-bench: the policies under test (none, classic, kernel, pressure, pressure-v2
// through the agent's own decide()), a senpai-style controller and the oracle baseline that knows
// the workload's future. Each Controller drives one guest; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <utility>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/policy/policy.h"
#include "xenballoon/sim/simulation.h"

namespace xenballoon::sim::bench {

enum class BenchPolicy { kNone, kClassic, kKernel, kPressure, kSenpai, kPressureV2, kOracle };
inline constexpr BenchPolicy kPolicies[] = {
    BenchPolicy::kNone,   BenchPolicy::kClassic,    BenchPolicy::kKernel, BenchPolicy::kPressure,
    BenchPolicy::kSenpai, BenchPolicy::kPressureV2, BenchPolicy::kOracle};

std::string_view policy_name(BenchPolicy policy);

// The policy the goals are checked for.
inline constexpr BenchPolicy kCandidate = BenchPolicy::kPressureV2;

// Knows the workload's future: a copy of the guest's workload runs kOracleLookaheadSeconds ahead
// and a monotonic queue keeps the largest allocation needed from the previous second to the end
// of that window. Not thread-safe.
class Oracle {
 public:
  explicit Oracle(const GuestModel& guest) : ahead_(guest.workload()) {}

  std::uint64_t target_kib(const GuestModel& guest, std::int64_t now);

 private:
  Workload ahead_;
  std::int64_t ahead_now_ = 0;
  std::deque<std::pair<std::int64_t, std::uint64_t>> window_;
};

// Facebook's senpai (github.com/facebookincubator/senpai, its defaults) on the balloon target
// instead of a cgroup limit: every 6 s, PSI some total below 10 ms per interval shrinks by up to
// 1 %, above it grows; it knows nothing of Committed_AS. Within [floor, memory/target].
class Senpai {
 public:
  static constexpr std::int64_t kIntervalSeconds = 6;

  std::uint64_t target_kib(const GuestModel& guest);

 private:
  std::uint64_t limit_kib_ = 0;
  std::uint64_t last_total_us_ = 0;
  bool started_ = false;
};

// What the agent would read from /proc, sysfs and xenstore, taken from the model directly (the
// same numbers the files show, without printing and parsing them 86400 times a guest).
PolicyInputs inputs_from(const GuestModel& guest, std::int64_t now);

// One guest's policy: decide() with `config`'s settings (the agent's defaults unless the bench
// was told otherwise) for that kind, every agent interval (the kernel driver's own interval for
// `kernel`), or the oracle every second.
class Controller {
 public:
  Controller(BenchPolicy policy, const GuestModel& guest, const AgentConfig& config = {});

  void tick(GuestModel& guest, std::int64_t now);

  BenchPolicy policy() const { return policy_; }
  // The floor of the last decision (what the agent publishes as floor_kib); 0 before the first
  // one, and for the oracle.
  std::uint64_t floor_kib() const { return floor_kib_; }

 private:
  BenchPolicy policy_;
  std::int64_t interval_seconds_;
  PolicySettings settings_;
  PolicyState state_;
  std::optional<Oracle> oracle_;
  std::optional<Senpai> senpai_;
  std::uint64_t floor_kib_ = 0;
};

}  // namespace xenballoon::sim::bench
