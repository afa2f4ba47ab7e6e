#include "readings.h"

#include <cerrno>

#include "agent_metrics.h"
#include "xenballoon/util/log.h"
#include "xenballoon/xenstore/client.h"

namespace xenballoon::agent {
namespace {

constexpr const char* kSourceNames[] = {"meminfo", "vmstat", "uptime", "pressure", "balloon"};

}  // namespace

Sensors::Sensors(const std::string& procfs, const std::string& sysfs, bool dry_run,
                 AgentMetrics& metrics)
    : procfs_(procfs), balloon_(sysfs, procfs), dry_run_(dry_run), metrics_(metrics) {}

void Sensors::set_roots(const std::string& procfs, const std::string& sysfs) {
  procfs_ = ProcfsReader(procfs);
  balloon_ = BalloonDriver(sysfs, procfs);
}

void Sensors::failed(Source source, const Error& error, log::Level level) {
  // A parser's error has no errno: the file is there but its content is not what it should be.
  const std::string label = error.errnum != 0 ? xenstore::errno_name(error.errnum) : "malformed";
  metrics_.read_error(kSourceNames[source], label).Increment();
  if (logged_[source] == label) return;
  logged_[source] = label;
  if (source == kBalloon) {
    log::write(level, "cannot balloon: " + error.message +
                          (dry_run_ ? "" : "; targets are computed but not written"));
  } else {
    log::write(level, error.message);
  }
}

void Sensors::succeeded(Source source) {
  if (!logged_[source]) return;
  logged_[source].reset();
  log::info(std::string(kSourceNames[source]) + " reads again");
}

Readings Sensors::read() {
  Readings r;
  if (auto m = procfs_.meminfo()) {
    r.meminfo = std::move(*m);
    succeeded(kMeminfo);
  } else {
    failed(kMeminfo, m.error(), log::Level::kWarning);
  }
  if (auto v = procfs_.vmstat(&vmstat_keep_)) {
    r.vmstat = std::move(*v);
    succeeded(kVmstat);
  } else {
    failed(kVmstat, v.error(), log::Level::kWarning);
  }
  if (auto u = procfs_.uptime()) {
    r.uptime = *u;
    succeeded(kUptime);
  } else {
    failed(kUptime, u.error(), log::Level::kDebug);
  }
  auto p = procfs_.pressure_memory();
  if (p) {
    r.pressure = *p;
    succeeded(kPressure);
  } else if (p.error().errnum == ENOENT) {
    if (!psi_absent_reported_) {
      log::info("no PSI on this kernel (" + p.error().message +
                "): pressure detection uses swap-in and major-fault bursts only");
      psi_absent_reported_ = true;
    }
  } else {
    failed(kPressure, p.error(), log::Level::kWarning);
  }
  auto b = balloon_.read(BalloonFields::kTargetAndCurrent);
  if (b) {
    r.balloon = *b;
    succeeded(kBalloon);
  } else {
    failed(kBalloon, b.error(), log::Level::kWarning);
  }
  return r;
}

}  // namespace xenballoon::agent
