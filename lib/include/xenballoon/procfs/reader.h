// Reads and parses /proc files under a configurable root (tests and containers pass another one).
#pragma once

#include <string>
#include <string_view>

#include "xenballoon/procfs/meminfo.h"
#include "xenballoon/procfs/pressure.h"
#include "xenballoon/procfs/uptime.h"
#include "xenballoon/procfs/vmstat.h"
#include "xenballoon/result.h"
#include "xenballoon/util/file.h"

namespace xenballoon {

// Reads <root>/meminfo, vmstat, uptime and pressure/memory; every call returns the content as it
// is now. The files stay open between calls (see RereadableFile). Not thread-safe: one per thread.
class ProcfsReader {
 public:
  explicit ProcfsReader(std::string procfs_root = "/proc");

  const std::string& root() const { return root_; }

  Result<Meminfo> meminfo();
  // With `keep`, only those counters are stored (see parse_vmstat).
  Result<Vmstat> vmstat(const std::vector<std::string>* keep = nullptr);
  Result<Uptime> uptime();
  // errnum is ENOENT when the kernel has no PSI (CONFIG_PSI off or booted with psi=0), so the
  // caller can switch pressure features off once instead of failing every round.
  Result<PressureStats> pressure_memory();

 private:
  std::string root_;
  RereadableFile meminfo_;
  RereadableFile vmstat_;
  RereadableFile uptime_;
  RereadableFile pressure_memory_;
};

}  // namespace xenballoon
