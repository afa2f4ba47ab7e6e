#include "policies.h"

#include <algorithm>
#include <chrono>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/policy/floor.h"

namespace xenballoon::sim::bench {
namespace {

// The oracle looks this far ahead; long enough for the balloon (256 MiB/s) to be in place.
constexpr std::int64_t kOracleLookaheadSeconds = 30;
constexpr std::uint64_t kOracleMarginKib = 16 * kKibPerMib;
// drivers/xen/xen-selfballoon.c: selfballoon_interval defaults to 5 s.
constexpr std::int64_t kKernelSelfballoonIntervalSeconds = 5;
// senpai's defaults: pressure target 10 ms per 6 s interval, probe at most 1 % with coefficient
// 10, back off at most 100 % with coefficient 20 (the adjustment is coefficient * error^2).
constexpr double kSenpaiTargetUs = 10'000;
constexpr double kSenpaiMaxProbe = 0.01;
constexpr double kSenpaiCoeffProbe = 10;
constexpr double kSenpaiMaxBackoff = 1.0;
constexpr double kSenpaiCoeffBackoff = 20;

}  // namespace

std::string_view policy_name(BenchPolicy policy) {
  switch (policy) {
    case BenchPolicy::kNone:
      return "none";
    case BenchPolicy::kClassic:
      return "classic";
    case BenchPolicy::kKernel:
      return "kernel";
    case BenchPolicy::kPressure:
      return "pressure";
    case BenchPolicy::kSenpai:
      return "senpai";
    case BenchPolicy::kPressureV2:
      return "pressure-v2";
    case BenchPolicy::kOracle:
      return "oracle";
  }
  return "unknown";
}

std::uint64_t Oracle::target_kib(const GuestModel& guest, std::int64_t now) {
  while (ahead_now_ <= now + kOracleLookaheadSeconds) {
    ahead_.advance_to(ahead_now_);
    const std::uint64_t need = guest.allocation_needed_kib(kib_from_pages(ahead_.demand_pages()));
    while (!window_.empty() && window_.back().second <= need) window_.pop_back();
    window_.emplace_back(ahead_now_, need);
    ++ahead_now_;
  }
  // The guest still holds the previous second's demand while the balloon moves.
  while (window_.front().first < now - 1) window_.pop_front();
  return std::min(window_.front().second + kOracleMarginKib, guest.dom0_target_kib());
}

std::uint64_t Senpai::target_kib(const GuestModel& guest) {
  const GuestSnapshot s = guest.snapshot();
  const std::uint64_t total_us = s.psi_some.total_ns / 1000;
  const std::uint64_t floor_kib = floor_mib(0, guest.static_max_kib()) * kKibPerMib;
  const std::uint64_t ceiling_kib = guest.dom0_target_kib();
  if (!started_) {
    started_ = true;
    limit_kib_ = s.balloon_target_kib;
    last_total_us_ = total_us;
    return limit_kib_;
  }
  const auto pressure = static_cast<double>(total_us - last_total_us_);
  last_total_us_ = total_us;
  const auto limit = static_cast<double>(limit_kib_);
  double next = limit;
  if (pressure < kSenpaiTargetUs) {
    const double error = (kSenpaiTargetUs - pressure) / kSenpaiTargetUs;
    next -= std::min(kSenpaiCoeffProbe * error * error, kSenpaiMaxProbe) * limit;
  } else {
    const double error = (pressure - kSenpaiTargetUs) / kSenpaiTargetUs;
    next += std::min(kSenpaiCoeffBackoff * error * error, kSenpaiMaxBackoff) * limit;
  }
  limit_kib_ = std::clamp(static_cast<std::uint64_t>(next), floor_kib, ceiling_kib) / kKibPerPage *
               kKibPerPage;
  return limit_kib_;
}

PolicyInputs inputs_from(const GuestModel& guest, std::int64_t now) {
  const GuestSnapshot s = guest.snapshot();
  PolicyInputs in;
  in.now = std::chrono::seconds(now);
  in.committed_as_kib = s.committed_as_kib;
  in.memtotal_kib = s.mem_total_kib;
  in.balloon_target_kib = s.balloon_target_kib;
  in.balloon_current_kib = s.balloon_current_kib;
  in.dom0_target_kib = guest.dom0_target_kib();
  in.static_max_kib = guest.static_max_kib();
  in.psi_some_avg10 = psi_average_percent(s.psi_some.avg10);
  in.psi_some_total_us = s.psi_some.total_ns / 1000;  // the file shows microseconds
  in.pswpin = s.vmstat.pswpin;
  in.pswpout = s.vmstat.pswpout;
  in.pgmajfault = s.vmstat.pgmajfault;
  in.workingset_refault_file = s.vmstat.workingset_refault_file;
  in.workingset_activate_file = s.vmstat.workingset_activate_file;
  in.oom_kill = s.vmstat.oom_kill;
  in.active_file_kib = s.active_file_kib;
  in.inactive_file_kib = s.inactive_file_kib;
  in.swap_free_kib = s.swap_free_kib;
  in.mem_free_kib = s.mem_free_kib;
  return in;
}

Controller::Controller(BenchPolicy policy, const GuestModel& guest, const AgentConfig& config)
    : policy_(policy), interval_seconds_(static_cast<std::int64_t>(config.interval_seconds)) {
  settings_ = policy_settings(config);
  switch (policy) {
    case BenchPolicy::kNone:
      settings_.kind = PolicyKind::kNone;
      break;
    case BenchPolicy::kClassic:
      settings_.kind = PolicyKind::kClassic;
      break;
    case BenchPolicy::kKernel:
      settings_.kind = PolicyKind::kKernel;
      interval_seconds_ = kKernelSelfballoonIntervalSeconds;
      break;
    case BenchPolicy::kPressure:
      settings_.kind = PolicyKind::kPressure;
      break;
    case BenchPolicy::kSenpai:
      senpai_.emplace();
      interval_seconds_ = Senpai::kIntervalSeconds;
      break;
    case BenchPolicy::kPressureV2:
      settings_.kind = PolicyKind::kPressureV2;
      break;
    case BenchPolicy::kOracle:
      oracle_.emplace(guest);
      break;
  }
}

void Controller::tick(GuestModel& guest, std::int64_t now) {
  if (now % interval_seconds_ != 0) return;
  if (oracle_) {
    guest.set_target_kib(oracle_->target_kib(guest, now));
    return;
  }
  if (senpai_) {
    guest.set_target_kib(senpai_->target_kib(guest));
    return;
  }
  const Decision decision = decide(inputs_from(guest, now), state_, settings_);
  if (decision.floor_kib != 0) floor_kib_ = decision.floor_kib;
  if (decision.target_kib) guest.set_target_kib(*decision.target_kib);
}

}  // namespace xenballoon::sim::bench
