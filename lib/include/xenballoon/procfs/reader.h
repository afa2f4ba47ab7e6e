// Reads and parses /proc files under a configurable root (tests and containers pass another one).
#pragma once

#include <string>
#include <string_view>

#include "xenballoon/procfs/meminfo.h"
#include "xenballoon/procfs/pressure.h"
#include "xenballoon/procfs/uptime.h"
#include "xenballoon/procfs/vmstat.h"
#include "xenballoon/result.h"

namespace xenballoon {

// Reads <root>/meminfo, vmstat, uptime and pressure/memory. Thread-safe: holds only an immutable
// path; every call reads the file afresh.
class ProcfsReader {
 public:
  explicit ProcfsReader(std::string procfs_root = "/proc");

  const std::string& root() const { return root_; }

  Result<Meminfo> meminfo() const;
  // With `keep`, only those counters are stored (see parse_vmstat).
  Result<Vmstat> vmstat(const std::vector<std::string>* keep = nullptr) const;
  Result<Uptime> uptime() const;
  // errnum is ENOENT when the kernel has no PSI (CONFIG_PSI off or booted with psi=0), so the
  // caller can switch pressure features off once instead of failing every round.
  Result<PressureStats> pressure_memory() const;

 private:
  std::string path_of(std::string_view relative) const;

  std::string root_;
};

}  // namespace xenballoon
