// One tick's readings of /proc and the balloon driver (Readings, a plain value), and the Sensors
// that take them, saying once when PSI or the balloon driver is absent. Not thread-safe: the
// agent's loop owns the Sensors; Readings are copied to whoever shows them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "xenballoon/balloon/driver.h"
#include "xenballoon/procfs/reader.h"

namespace xenballoon::agent {

struct Readings {
  std::optional<Meminfo> meminfo;
  std::optional<Vmstat> vmstat;
  std::optional<Uptime> uptime;
  std::optional<PressureStats> pressure;
  std::optional<BalloonState> balloon;
};

class Sensors {
 public:
  Sensors(const std::string& procfs, const std::string& sysfs, bool dry_run);

  // Reads every source; a failed one is absent and logged (PSI's and the driver's absence once).
  Readings read();
  // The vmstat counters to keep: the published selection plus what the policy reads.
  void keep_vmstat(std::vector<std::string> names) { vmstat_keep_ = std::move(names); }
  // New roots after a reload.
  void set_roots(const std::string& procfs, const std::string& sysfs);
  // The driver the target is written to (the same files the readings come from).
  BalloonDriver& balloon() { return balloon_; }

 private:
  ProcfsReader procfs_;
  BalloonDriver balloon_;
  bool dry_run_;
  std::vector<std::string> vmstat_keep_;
  bool psi_absent_reported_ = false;
  bool balloon_absent_reported_ = false;
};

}  // namespace xenballoon::agent
