// The once-a-second trace of one guest (memory sizes, file LRU and refaults, PSI totals, swap,
// balloon target and current) as CSV, built from the simulator's snapshot or from the text of a
// real guest's /proc and balloon files, so a simulated and a real run of the same workload can be
// compared column by column. Pure functions: no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "xenballoon/result.h"
#include "xenballoon/sim/guest.h"

namespace xenballoon::sim {

// One row. Sizes in KiB, counters as the kernel counts them, PSI totals in microseconds.
struct TraceSample {
  std::int64_t second = 0;
  std::uint64_t mem_total_kib = 0;
  std::uint64_t committed_as_kib = 0;
  std::uint64_t active_file_kib = 0;
  std::uint64_t inactive_file_kib = 0;
  std::uint64_t workingset_refault_file = 0;
  std::uint64_t workingset_activate_file = 0;
  std::uint64_t psi_some_total_us = 0;
  std::uint64_t psi_full_total_us = 0;
  std::uint64_t swap_total_kib = 0;
  std::uint64_t swap_free_kib = 0;
  std::uint64_t pswpin = 0;
  std::uint64_t pswpout = 0;
  std::uint64_t target_kib = 0;
  std::uint64_t current_kib = 0;

  bool operator==(const TraceSample&) const = default;
};

// The column names, comma-separated, with a newline; `prefix` ("scenario,policy,guest,") goes
// first when several runs share a file.
std::string trace_header(std::string_view prefix = {});
// One line for `sample`, after `prefix` ("steady,pressure,web,").
std::string trace_row(const TraceSample& sample, std::string_view prefix = {});

// What the simulated guest shows at this instant.
TraceSample trace_sample(const GuestSnapshot& snapshot);

// The same fields read from a guest's files as they are on a real guest: /proc/meminfo,
// /proc/vmstat, /proc/pressure/memory, xen_memory0/target_kb and info/current_kb. Errors name the
// file and the missing field.
Result<TraceSample> trace_sample_from_text(std::int64_t second, std::string_view meminfo,
                                           std::string_view vmstat, std::string_view pressure,
                                           std::string_view target_kb, std::string_view current_kb);

}  // namespace xenballoon::sim
