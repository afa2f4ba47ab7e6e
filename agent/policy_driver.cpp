#include "policy_driver.h"

#include "agent_metrics.h"
#include "xenballoon/util/log.h"
#include "xenballoon/xenstore/client.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::agent {
namespace {

std::optional<std::uint64_t> kib(const std::optional<std::uint64_t>& bytes) {
  if (!bytes) return std::nullopt;
  return *bytes / 1024;
}

}  // namespace

PolicyInputs PolicyDriver::inputs(const Readings& r, const Dom0View& dom0) const {
  PolicyInputs in;
  in.now = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch());
  if (r.meminfo) {
    in.committed_as_kib = kib(r.meminfo->get("Committed_AS"));
    in.memtotal_kib = kib(r.meminfo->get("MemTotal"));
    in.mem_free_kib = kib(r.meminfo->get("MemFree"));
    in.swap_free_kib = kib(r.meminfo->get("SwapFree"));
    in.active_file_kib = kib(r.meminfo->get("Active(file)"));
    in.inactive_file_kib = kib(r.meminfo->get("Inactive(file)"));
  }
  if (r.balloon) {
    in.balloon_target_kib = r.balloon->target_kib;
    in.balloon_current_kib = r.balloon->current_kib;
  }
  in.dom0_target_kib = dom0.target_kib;
  in.static_max_kib = dom0.static_max_kib;
  if (r.pressure) {
    in.psi_some_avg10 = r.pressure->some.avg10;
    in.psi_some_total_us = r.pressure->some.total_us;
  }
  if (r.vmstat) {
    in.pswpin = r.vmstat->get("pswpin");
    in.pswpout = r.vmstat->get("pswpout");
    in.pgmajfault = r.vmstat->get("pgmajfault");
    in.workingset_refault_file = r.vmstat->get("workingset_refault_file");
    in.workingset_activate_file = r.vmstat->get("workingset_activate_file");
    in.oom_kill = r.vmstat->get("oom_kill");
  }
  in.overrides = dom0.overrides;
  return in;
}

Decision PolicyDriver::decide(const PolicyInputs& in) {
  return xenballoon::decide(in, state_, settings_);
}

void PolicyDriver::apply(const Decision& d, const Readings& r, std::uint64_t interval_seconds,
                         std::optional<Clock::time_point> target_event) {
  metrics_.setting(Setting::kSelfballoon).Set(d.effective.selfballoon ? 1 : 0);
  metrics_.setting(Setting::kUphysteresis).Set(static_cast<double>(d.effective.uphysteresis));
  metrics_.setting(Setting::kDownhysteresis).Set(static_cast<double>(d.effective.downhysteresis));
  metrics_.setting(Setting::kMinmemMib).Set(static_cast<double>(d.effective.minmem_mib));
  metrics_.setting(Setting::kIntervalSeconds).Set(static_cast<double>(interval_seconds));
  metrics_.pressure(Signal::kPsi).Set(d.signals.psi_high ? 1 : 0);
  metrics_.pressure(Signal::kSwapin).Set(d.signals.swapin_burst ? 1 : 0);
  metrics_.pressure(Signal::kMajfault).Set(d.signals.majfault_burst ? 1 : 0);
  if (d.hold != ShrinkHold::kNone) metrics_.shrink_held(d.hold).Increment();
  if (d.skipped()) {
    metrics_.skipped(d.skip_reason).Increment();
    if (last_skip_logged_ != d.skip_reason) {
      log::warning("no balloon target this tick: " + describe(d));
      last_skip_logged_ = d.skip_reason;
    }
    return;
  }
  if (last_skip_logged_) {
    log::info("balloon targets resume: " + describe(d));
    last_skip_logged_.reset();
  }
  // decide() has rounded to a page and finished a small step already.
  const std::uint64_t target = *d.target_kib;
  last_target_kib_ = target;
  if (!r.balloon || dry_run_) return;
  if (target == r.balloon->target_kib) return;
  auto written = balloon_.set_target_kib(target);
  if (!written) {
    const std::string error = xenstore::errno_name(written.error().errnum);
    metrics_.balloon_write_error(error).Increment();
    // Once per kind of failure, not once per tick: the driver may refuse for hours.
    if (write_error_logged_ != error) {
      log::error(written.error().message);
      write_error_logged_ = error;
    }
    return;
  }
  if (write_error_logged_) {
    log::info("balloon target written again: " + std::to_string(target) + " KiB");
    write_error_logged_.reset();
  }
  last_written_kib_ = target;
  metrics_.adjustment(target > r.balloon->target_kib ? "up" : "down").Increment();
  log::debug("balloon target " + std::to_string(r.balloon->target_kib) + " -> " +
             std::to_string(target) + " KiB: " + describe(d));
  if (target_event) {
    metrics_.directed_latency().Observe(
        std::chrono::duration<double>(Clock::now() - *target_event).count());
  }
}

void PolicyDriver::restore_on_exit(OnExit on_exit, const Dom0View& dom0) {
  if (dry_run_ || on_exit == OnExit::kLeave) return;
  const bool to_target = on_exit == OnExit::kDom0Target;
  std::optional<std::uint64_t> target = to_target ? dom0.target_kib : dom0.static_max_kib;
  if (!target || *target == 0) {
    log::warning(std::string("on exit: cannot restore the balloon target: ") +
                 std::string(to_target ? xenstore::keys::kTarget : xenstore::keys::kStaticMax) +
                 " is unknown");
    return;
  }
  auto current = balloon_.read(BalloonFields::kTargetAndCurrent);
  if (current && current->target_kib == *target) return;
  auto written = balloon_.set_target_kib(*target);
  if (written) {
    log::info("on exit: balloon target restored to " + std::to_string(*target) + " KiB (" +
              std::string(to_string(on_exit)) + ")");
  } else {
    log::error("on exit: " + written.error().message);
  }
}

}  // namespace xenballoon::agent
