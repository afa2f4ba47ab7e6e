// One tick's readings of /proc and the balloon driver (Readings, a plain value), and the Sensors
// that take them, counting every failed read (xenballoon_read_errors_total) and saying once per
// kind of failure, and once when PSI or the balloon driver is absent. Not thread-safe: the
// agent's loop owns the Sensors; Readings are copied to whoever shows them.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "xenballoon/balloon/driver.h"
#include "xenballoon/procfs/reader.h"
#include "xenballoon/util/log.h"

namespace xenballoon::agent {

struct Readings {
  std::optional<Meminfo> meminfo;
  std::optional<Vmstat> vmstat;
  std::optional<Uptime> uptime;
  std::optional<PressureStats> pressure;
  std::optional<BalloonState> balloon;
};

class AgentMetrics;

class Sensors {
 public:
  // `metrics` must outlive the sensors.
  Sensors(const std::string& procfs, const std::string& sysfs, bool dry_run, AgentMetrics& metrics);

  // Reads every source; a failed one is absent and logged (PSI's and the driver's absence once).
  Readings read();
  // The vmstat counters to keep: the published selection plus what the policy reads.
  void keep_vmstat(std::vector<std::string> names) { vmstat_keep_ = std::move(names); }
  // New roots after a reload.
  void set_roots(const std::string& procfs, const std::string& sysfs);
  // The driver the target is written to (the same files the readings come from).
  BalloonDriver& balloon() { return balloon_; }

 private:
  enum Source { kMeminfo, kVmstat, kUptime, kPressure, kBalloon, kSources };
  // Counts a failed read of `source`; logs it at `level` when its kind (the error label) differs
  // from the last one logged for that source.
  void failed(Source source, const Error& error, log::Level level);
  // Says once that `source` reads again after a logged failure.
  void succeeded(Source source);

  ProcfsReader procfs_;
  BalloonDriver balloon_;
  bool dry_run_;
  AgentMetrics& metrics_;
  std::vector<std::string> vmstat_keep_;
  bool psi_absent_reported_ = false;
  std::array<std::optional<std::string>, kSources> logged_{};  // the error label last logged
};

}  // namespace xenballoon::agent
