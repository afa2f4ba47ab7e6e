#include "readings.h"

#include <cerrno>

#include "xenballoon/util/log.h"

namespace xenballoon::agent {

Sensors::Sensors(const std::string& procfs, const std::string& sysfs, bool dry_run)
    : procfs_(procfs), balloon_(sysfs, procfs), dry_run_(dry_run) {}

void Sensors::set_roots(const std::string& procfs, const std::string& sysfs) {
  procfs_ = ProcfsReader(procfs);
  balloon_ = BalloonDriver(sysfs, procfs);
}

Readings Sensors::read() {
  Readings r;
  if (auto m = procfs_.meminfo()) {
    r.meminfo = std::move(*m);
  } else {
    log::warning(m.error().message);
  }
  if (auto v = procfs_.vmstat(&vmstat_keep_)) {
    r.vmstat = std::move(*v);
  } else {
    log::warning(v.error().message);
  }
  if (auto u = procfs_.uptime()) r.uptime = *u;
  auto p = procfs_.pressure_memory();
  if (p) {
    r.pressure = *p;
  } else if (p.error().errnum == ENOENT) {
    if (!psi_absent_reported_) {
      log::info("no PSI on this kernel (" + p.error().message +
                "): pressure detection uses swap-in and major-fault bursts only");
      psi_absent_reported_ = true;
    }
  } else {
    log::warning(p.error().message);
  }
  auto b = balloon_.read(BalloonFields::kTargetAndCurrent);
  if (b) {
    r.balloon = *b;
    balloon_absent_reported_ = false;
  } else if (!balloon_absent_reported_) {
    log::warning("cannot balloon: " + b.error().message +
                 (dry_run_ ? "" : "; targets are computed but not written"));
    balloon_absent_reported_ = true;
  }
  return r;
}

}  // namespace xenballoon::agent
