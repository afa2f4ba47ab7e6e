// xenballoon-policy-bench: one scenario under one policy in virtual time, one decision per guest
// per virtual second, and what it measured per guest (allocation, swapping, faults, PSI, OOM
// kills) with the first guest's series for the plot. Plain values and a pure run; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policies.h"
#include "xenballoon/sim/simulation.h"

namespace xenballoon::sim::bench {

inline constexpr std::int64_t kPlotSampleSeconds = 60;
inline constexpr double kKibPerGib = 1024.0 * 1024.0;
inline constexpr double kSecondsPerHour = 3600;

struct GuestResult {
  std::string name;
  std::uint64_t static_max_kib = 0;
  std::uint64_t seconds = 0;
  std::uint64_t allocation_kib_seconds = 0;  // sum over seconds of the allocation
  std::uint64_t swapins = 0;
  std::uint64_t swapouts = 0;
  std::uint64_t majfaults = 0;
  std::uint64_t psi_some_ns = 0;
  std::uint64_t psi_full_ns = 0;
  std::uint64_t oom_kills = 0;
  std::uint64_t file_refaults = 0;  // workingset_refault_file
  std::uint64_t lost_work_ns = 0;   // closed loop: the workload's time spent not progressing

  // A total scaled to one day of this guest's run.
  double per_day(std::uint64_t total) const {
    return seconds == 0 ? 0 : static_cast<double>(total) * 86400.0 / static_cast<double>(seconds);
  }
  double mean_allocation_kib() const {
    return seconds == 0
               ? 0
               : static_cast<double>(allocation_kib_seconds) / static_cast<double>(seconds);
  }
};

struct SeriesPoint {
  double hours = 0;
  double needed_mib = 0;
  double target_mib = 0;
  double allocation_mib = 0;
  double psi_some_percent = 0;  // PSI some stall over the kPlotSampleSeconds before
};

struct RunResult {
  std::string scenario;
  BenchPolicy policy = BenchPolicy::kNone;
  std::vector<GuestResult> guests;
  std::string plotted_guest;
  double plotted_static_max_mib = 0;
  std::vector<SeriesPoint> series;  // the scenario's first guest
  std::string trace;                // with RunOptions::trace: every guest every second, CSV rows

  double allocation_percent() const {
    double allocation = 0;
    double static_max = 0;
    for (const GuestResult& guest : guests) {
      allocation += guest.mean_allocation_kib();
      static_max += static_cast<double>(guest.static_max_kib);
    }
    return static_max == 0 ? 0 : 100.0 * allocation / static_max;
  }
  double reclaimed_mean_mib() const {
    double reclaimed = 0;
    for (const GuestResult& guest : guests) {
      reclaimed += static_cast<double>(guest.static_max_kib) - guest.mean_allocation_kib();
    }
    return reclaimed / kKibPerMib;
  }
  double reclaimed_gib_hours() const {
    double kib_seconds = 0;
    for (const GuestResult& guest : guests) {
      kib_seconds += static_cast<double>(guest.static_max_kib * guest.seconds) -
                     static_cast<double>(guest.allocation_kib_seconds);
    }
    return kib_seconds / kKibPerGib / kSecondsPerHour;
  }
  template <typename Field>
  std::uint64_t total(Field field) const {
    std::uint64_t sum = 0;
    for (const GuestResult& guest : guests) sum += guest.*field;
    return sum;
  }
};

struct RunOptions {
  bool trace = false;  // fill RunResult::trace (xenballoon/sim/trace.h rows, prefixed)
  AgentConfig agent;   // the policies' settings (the agent's defaults unless changed)
};

// Runs `scenario` to its end with every guest under `policy`.
Result<RunResult> run(const Scenario& scenario, BenchPolicy policy, const RunOptions& options = {});

// The result for `scenario` under `policy`, or null.
const RunResult* find(const std::vector<RunResult>& results, const std::string& scenario,
                      BenchPolicy policy);

}  // namespace xenballoon::sim::bench
