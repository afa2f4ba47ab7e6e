// Benchmark support: what /proc says about a running process (resident and peak memory, open
// descriptors, CPU time), read the way a soak samples it. Thread-safe (plain functions; each call
// reads /proc afresh).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace xenballoon::bench {

// One reading. A plain value.
struct ProcessStats {
  std::uint64_t rss_kib = 0;  // VmRSS
  std::uint64_t hwm_kib = 0;  // VmHWM, the peak of VmRSS
  std::uint64_t fds = 0;      // entries of /proc/PID/fd
  double cpu_seconds = 0;     // utime + stime
};

// nullopt when the process is gone (or /proc cannot be read).
std::optional<ProcessStats> process_stats(pid_t pid);

// utime + stime of /proc/PID/stat in seconds; 0 when it cannot be read.
double cpu_seconds(pid_t pid);

}  // namespace xenballoon::bench
