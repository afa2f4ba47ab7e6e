#include "policies.h"

#include <algorithm>
#include <chrono>

#include "xenballoon/config/agent_config.h"

namespace xenballoon::sim::bench {
namespace {

// The oracle looks this far ahead; long enough for the balloon (256 MiB/s) to be in place.
constexpr std::int64_t kOracleLookaheadSeconds = 30;
constexpr std::uint64_t kOracleMarginKib = 16 * kKibPerMib;
// drivers/xen/xen-selfballoon.c: selfballoon_interval defaults to 5 s.
constexpr std::int64_t kKernelSelfballoonIntervalSeconds = 5;

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
  in.pswpin = s.vmstat.pswpin;
  in.pgmajfault = s.vmstat.pgmajfault;
  return in;
}

Controller::Controller(BenchPolicy policy, const GuestModel& guest)
    : policy_(policy),
      interval_seconds_(static_cast<std::int64_t>(AgentConfig{}.interval_seconds)) {
  settings_ = policy_settings(AgentConfig{});
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
  const Decision decision = decide(inputs_from(guest, now), state_, settings_);
  if (decision.floor_kib != 0) floor_kib_ = decision.floor_kib;
  if (decision.target_kib) guest.set_target_kib(*decision.target_kib);
}

}  // namespace xenballoon::sim::bench
