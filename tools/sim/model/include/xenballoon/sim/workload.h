// What runs inside a simulated guest: anonymous memory demand over virtual time, from one of
// five shapes, and how the workload touches its memory.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "xenballoon/sim/random.h"

namespace xenballoon::sim {

enum class WorkloadKind { kSteady, kDiurnal, kSpike, kLeak, kBatch };

std::string_view to_string(WorkloadKind kind);

// How the workload touches memory each second (docs/simulation.md, "Access").
struct AccessPattern {
  double hot_percent = 25;                // share of the anonymous memory that is hot
  double hot_touch_percent_per_s = 5;     // of the hot pages, touched per second
  double cold_touch_percent_per_s = 0.1;  // of the cold pages, touched per second
  double file_touch_percent_per_s = 1;    // of the file working set, read per second
  double file_mapped_percent = 25;        // of file reads, through mmap (misses are major faults)
  // Popularity of the file working set's pages: Zipf with this exponent (0: every page alike).
  // The cache keeps the most popular pages, so with a skew a small cache serves most reads.
  double file_zipf_exponent = 0;
  // Data read once and never again (a backup, a scan, a file server's cold files), MiB per second
  // of full progress: it fills free memory as cache and is the first to go under reclaim.
  double file_stream_mib_per_s = 0;
  // When the reads happen, in seconds from boot: the working set from file_from_seconds on, the
  // stream from file_stream_from_seconds for file_stream_seconds (0: to the end).
  std::uint64_t file_from_seconds = 0;
  std::uint64_t file_stream_from_seconds = 0;
  std::uint64_t file_stream_seconds = 0;

  // Whether the working set is read, and the stream runs, in second `now` from boot.
  bool reads_working_set(std::int64_t now) const {
    return now >= 0 && static_cast<std::uint64_t>(now) >= file_from_seconds;
  }
  bool streams(std::int64_t now) const {
    if (now < 0 || static_cast<std::uint64_t>(now) < file_stream_from_seconds) return false;
    return file_stream_seconds == 0 ||
           static_cast<std::uint64_t>(now) - file_stream_from_seconds < file_stream_seconds;
  }

  bool operator==(const AccessPattern&) const = default;
};

// One workload; which fields matter depends on `kind`. Sizes in MiB, times in seconds from the
// guest's boot.
struct WorkloadSpec {
  WorkloadKind kind = WorkloadKind::kSteady;
  std::uint64_t base_mib = 0;   // the service's size (every kind but diurnal)
  std::uint64_t noise_mib = 0;  // standard deviation of a slow random wander around the shape
  std::uint64_t restart_delay_seconds = 10;  // the service restarts this long after an OOM kill
  // Many small allocations: every second the service holds up to this much more, uniformly at
  // random and independently of the second before (malloc/free churn, short-lived children).
  std::uint64_t jitter_mib = 0;

  // diurnal: low_mib .. high_mib, a cosine over 24 h peaking at peak_second
  std::uint64_t low_mib = 0;
  std::uint64_t high_mib = 0;
  std::uint64_t peak_second = 14 * 3600;

  // spike: a second process grows to spike_mib over ramp_seconds, holds, then exits
  std::uint64_t spike_mib = 0;
  std::vector<std::uint64_t> spike_at_seconds;
  std::uint64_t hold_seconds = 600;

  // leak: the service grows by leak_mib_per_hour from its start; restarted every
  // restart_every_seconds (0: never) and after an OOM kill
  double leak_mib_per_hour = 0;
  std::uint64_t restart_every_seconds = 0;

  // batch: a job of batch_mib runs run_seconds every period_seconds, first at first_at_seconds
  std::uint64_t batch_mib = 0;
  std::uint64_t period_seconds = 3600;
  std::uint64_t run_seconds = 600;
  std::uint64_t first_at_seconds = 0;

  std::uint64_t ramp_seconds = 10;  // spike and batch: time to reach full size

  AccessPattern access;

  bool operator==(const WorkloadSpec&) const = default;
};

// The workload's processes: a long-running service and, for spike and batch, a job. The OOM
// killer picks the larger. A plain value: copying it gives an identical future (the oracle
// looks ahead that way). Not thread-safe.
class Workload {
 public:
  Workload(WorkloadSpec spec, std::uint64_t seed);

  // Moves to second `now` (call with 0, 1, 2, ... in order) and updates the demand.
  void advance_to(std::int64_t now_seconds);

  // Anonymous memory the processes want resident now, in pages.
  std::uint64_t demand_pages() const { return service_pages_ + job_pages_; }
  std::uint64_t service_pages() const { return service_pages_; }
  // The daily load, 0 at the trough and 1 at the peak (diurnal; every other kind: 0).
  double load_fraction() const { return load_fraction_; }
  std::uint64_t job_pages() const { return job_pages_; }

  // The OOM killer: kills the largest process and returns the pages it held (0: nothing alive).
  std::uint64_t kill_largest(std::int64_t now_seconds);
  std::uint64_t kills() const { return kills_; }

  const WorkloadSpec& spec() const { return spec_; }

  // What runs in the guest changes (`xenballoon-sim workload`): from the next advance_to on the
  // processes follow `spec`. The service starts over now (a leak from its base size), a job follows
  // the new spec's windows (still seconds from boot); the noise, the random numbers, the kill count
  // and the clock carry on.
  void replace(WorkloadSpec spec);

  bool operator==(const Workload&) const = default;

 private:
  double service_shape_mib(std::int64_t now_seconds) const;
  // The cosine of a diurnal day: 1 at peak_second, 0 twelve hours from it.
  double diurnal_load(std::int64_t now_seconds) const;
  // The job's run this second: its window index and size in MiB, or index -1 when idle.
  std::pair<std::int64_t, double> job_window(std::int64_t now_seconds) const;

  WorkloadSpec spec_;
  Random random_;
  double noise_mib_ = 0;
  double load_fraction_ = 0;
  std::int64_t now_seconds_ = -1;
  bool service_alive_ = true;
  std::int64_t service_started_ = 0;
  std::int64_t service_restart_at_ = 0;
  std::int64_t job_killed_window_ = -1;
  std::uint64_t service_pages_ = 0;
  std::uint64_t job_pages_ = 0;
  std::uint64_t kills_ = 0;
};

}  // namespace xenballoon::sim
