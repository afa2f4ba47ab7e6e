// xenballoon-balancer-bench: one scenario under one dom0 policy in virtual time, every guest's
// agent (the agent's own decide(), through the policy bench's Controller) selfballooning below
// dom0's target, and what it measured: per guest (allocation, swap-ins, PSI, OOM kills), for the
// host (free memory while any guest stalls) and a time series sampled every kSampleSeconds.
// Plain values and a pure run; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dom0_policies.h"
#include "xenballoon/sim/simulation.h"

namespace xenballoon::sim::balancer_bench {

inline constexpr std::int64_t kSampleSeconds = 60;
inline constexpr double kSecondsPerHour = 3600;
// A guest stalled (PSI some) at least this share of a second counts as a hard stall.
inline constexpr std::uint64_t kHardStallNs = 100'000'000;

struct GuestTotals {
  std::string name;
  std::uint64_t static_max_kib = 0;
  std::uint64_t allocation_kib_seconds = 0;  // sum over seconds of the allocation
  std::uint64_t swapins = 0;
  std::uint64_t file_refaults = 0;  // workingset_refault_file: page cache read again
  std::uint64_t psi_some_ns = 0;
  std::uint64_t psi_full_ns = 0;
  std::uint64_t lost_work_ns = 0;  // GuestModel::lost_work_ns() over the run
  std::uint64_t oom_kills = 0;
};

// One guest at one sample. MiB; psi_some_avg10 in percent.
struct GuestSample {
  double target_mib = 0;      // dom0's memory/target (the ceiling)
  double allocation_mib = 0;  // what the guest holds
  double needed_mib = 0;      // the allocation its demand needs without reclaim
  double psi_some_avg10 = 0;
};

struct Sample {
  std::int64_t second = 0;
  double host_free_mib = 0;
  std::vector<GuestSample> guests;  // in scenario order
};

struct RunResult {
  std::string scenario;
  std::uint64_t seed = 0;
  Dom0Policy policy = Dom0Policy::kStatic;
  std::uint64_t host_kib = 0;
  std::uint64_t seconds = 0;
  std::vector<GuestTotals> guests;
  std::uint64_t stalled_seconds = 0;           // seconds in which at least one guest stalled
  std::uint64_t free_kib_seconds_stalled = 0;  // host free memory summed over those seconds
  // The same for the seconds in which a guest stalled at least kHardStallNs of it (10 %).
  std::uint64_t hard_stalled_seconds = 0;
  std::uint64_t free_kib_seconds_hard_stalled = 0;
  // Hard-stall seconds in which a hard-stalled guest held its whole dom0 target (within 1 MiB)
  // and that target was below its static-max: dom0's ceiling, not the guest's own balloon or its
  // maximum, kept it short.
  std::uint64_t capped_stall_seconds = 0;
  Dom0Controller::WaitCounts waits;  // balancer only
  std::vector<Sample> series;

  template <typename Field>
  std::uint64_t total(Field field) const {
    std::uint64_t sum = 0;
    for (const GuestTotals& guest : guests) sum += guest.*field;
    return sum;
  }
  double psi_some_seconds() const {
    return static_cast<double>(total(&GuestTotals::psi_some_ns)) / 1e9;
  }
  // Lost work: the seconds the guests' workloads did not progress (the closed-loop model's
  // GuestModel::lost_work_ns(), as the policy bench reports it), summed over the guests.
  double lost_seconds() const {
    return static_cast<double>(total(&GuestTotals::lost_work_ns)) / 1e9;
  }
  // Mean host free memory while any guest stalls, in % of the host (0 when none stalled).
  double idle_percent_while_stalled() const {
    if (stalled_seconds == 0 || host_kib == 0) return 0;
    return 100.0 * static_cast<double>(free_kib_seconds_stalled) /
           static_cast<double>(stalled_seconds) / static_cast<double>(host_kib);
  }
  double idle_percent_while_hard_stalled() const {
    if (hard_stalled_seconds == 0 || host_kib == 0) return 0;
    return 100.0 * static_cast<double>(free_kib_seconds_hard_stalled) /
           static_cast<double>(hard_stalled_seconds) / static_cast<double>(host_kib);
  }
  // Share of the seconds in which at least one guest stalled, in %.
  double stalled_percent() const {
    return seconds == 0
               ? 0
               : 100.0 * static_cast<double>(stalled_seconds) / static_cast<double>(seconds);
  }
  // Mean of the guests' allocations together, in GiB.
  double mean_allocation_gib() const {
    if (seconds == 0) return 0;
    return static_cast<double>(total(&GuestTotals::allocation_kib_seconds)) /
           static_cast<double>(seconds) / (1024.0 * 1024.0);
  }
};

// Runs `scenario` (already seeded) to its end under `policy`.
Result<RunResult> run(const Scenario& scenario, std::uint64_t seed, Dom0Policy policy);

}  // namespace xenballoon::sim::balancer_bench
