#include "xenballoon/policy/policy.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "xenballoon/policy/floor.h"

namespace xenballoon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using xenstore::keys::Override;

constexpr std::uint64_t kKibPerMib = 1024;
constexpr double kUsPerSecond = 1e6;

// The counters of WorkingSetState::counters, by index.
constexpr std::size_t kStallCounter = 0;
constexpr std::size_t kActivateCounter = 1;
constexpr std::size_t kRefaultCounter = 2;
constexpr std::size_t kSwapinCounter = 3;
constexpr std::size_t kSwapoutCounter = 4;
constexpr unsigned bit(std::size_t counter) {
  return 1U << counter;
}

std::uint64_t mib_to_kib(std::uint64_t mib) {
  return std::min(mib, kMaxSizeMib) * kKibPerMib;
}

// Steps from `current` towards `goal` by 1/divisor of the gap; a divisor of 0 jumps.
std::uint64_t step_towards(std::uint64_t current, std::uint64_t goal, std::uint64_t divisor) {
  if (divisor == 0 || current == goal) return goal;
  if (current > goal) return current - (current - goal) / divisor;
  return current + (goal - current) / divisor;
}

// The sizes a selfballooning policy works with, already checked for plausibility.
struct Levels {
  std::uint64_t memtotal_kib = 0;
  std::uint64_t committed_as_kib = 0;
  // Balloon pages MemTotal never shows (kernel image, memmap, reserved): the balloon target is
  // MemTotal plus this, so a goal computed from Committed_AS must add it too.
  std::uint64_t overhead_kib = 0;
  // The balloon target in force (else current_kb, else MemTotal); direction is measured from it.
  std::uint64_t level_kib = 0;
};

Levels levels_from(const PolicyInputs& in) {
  Levels levels;
  levels.memtotal_kib = *in.memtotal_kib;
  levels.committed_as_kib = *in.committed_as_kib;
  const std::uint64_t balloon_size =
      in.balloon_current_kib.value_or(in.balloon_target_kib.value_or(levels.memtotal_kib));
  levels.overhead_kib = balloon_size > levels.memtotal_kib ? balloon_size - levels.memtotal_kib : 0;
  levels.level_kib =
      in.balloon_target_kib.value_or(in.balloon_current_kib.value_or(levels.memtotal_kib));
  return levels;
}

// Every tick of `pressure-v2`, before anything can skip it: the counters and Committed_AS.
void record_working_set(const PolicyInputs& in, WorkingSetState& ws) {
  const unsigned read = (in.psi_some_total_us ? bit(kStallCounter) : 0) |
                        (in.workingset_activate_file ? bit(kActivateCounter) : 0) |
                        (in.workingset_refault_file ? bit(kRefaultCounter) : 0) |
                        (in.pswpin ? bit(kSwapinCounter) : 0) |
                        (in.pswpout ? bit(kSwapoutCounter) : 0);
  if (read != ws.counters_read) {
    ws.counters.clear();  // a counter that appears or vanishes is no increase
    ws.counters_read = read;
  }
  ws.counters.record(
      in.now,
      {in.psi_some_total_us.value_or(0), in.workingset_activate_file.value_or(0),
       in.workingset_refault_file.value_or(0), in.pswpin.value_or(0), in.pswpout.value_or(0)});
  if (in.committed_as_kib) ws.committed.record(in.now, *in.committed_as_kib);
}

// `pressure-v2`: the stall from PSI some total= and the refault activations over the window.
void read_working_set_signals(const WorkingSetState& ws, const PressureConfig& config,
                              PressureSignals& signals) {
  const auto increase = ws.counters.increase_over(seconds(config.stall_window_seconds));
  signals.psi_high = false;  // avg10 is not what this policy reads
  signals.psi_available = (ws.counters_read & bit(kStallCounter)) != 0;
  const bool activations_available = (ws.counters_read & bit(kActivateCounter)) != 0;
  signals.stall_available = signals.psi_available || activations_available;
  signals.history_covers_window = increase.covers_window;
  if (signals.psi_available && increase.seconds > 0) {
    signals.stall_percent = 100.0 * static_cast<double>(increase.values[kStallCounter]) /
                            (static_cast<double>(increase.seconds) * kUsPerSecond);
    signals.psi_high = signals.stall_percent >= config.stall_backoff_percent;
  }
  if (activations_available) {
    signals.activations_in_window = increase.values[kActivateCounter];
    signals.refault_burst = signals.activations_in_window >= config.refault_backoff_pages;
  }
  // A stall with no refault and no page to or from swap in the window is reclaim work (kswapd
  // or the balloon reclaiming page cache, a stream's read-once pages making room): more memory
  // does not end it. Only when all four counters are read.
  constexpr unsigned kQuietCounters =
      bit(kActivateCounter) | bit(kRefaultCounter) | bit(kSwapinCounter) | bit(kSwapoutCounter);
  signals.reclaim_stall =
      signals.psi_high && (ws.counters_read & kQuietCounters) == kQuietCounters &&
      increase.values[kActivateCounter] == 0 && increase.values[kRefaultCounter] == 0 &&
      increase.values[kSwapinCounter] == 0 && increase.values[kSwapoutCounter] == 0;
  // Major faults include every cold read through a mapping: refaults are the precise signal.
  signals.majfault_burst = false;
}

PressureSignals read_signals(const PolicyInputs& in, const PolicyState& state,
                             const PressureConfig& config) {
  PressureSignals signals;
  if (in.psi_some_avg10) {
    signals.psi_available = true;
    signals.psi_high = *in.psi_some_avg10 >= config.psi_some_avg10_threshold;
  }
  signals.vmstat_available = in.pswpin.has_value() && in.pgmajfault.has_value();
  if (signals.vmstat_available) {
    const auto increase = state.vmstat.increase_over(seconds(config.burst_window_seconds));
    signals.history_covers_window = increase.covers_window;
    signals.swapin_pages_in_window = increase.pswpin;
    signals.majfaults_in_window = increase.pgmajfault;
    signals.swapin_burst = increase.pswpin >= config.swapin_burst_pages;
    signals.majfault_burst = increase.pgmajfault >= config.majfault_burst_count;
  }
  return signals;
}

bool cooldown_active(const PolicyState& state, milliseconds now, const PressureConfig& config) {
  return state.last_pressure &&
         now - *state.last_pressure < seconds(config.shrink_cooldown_seconds);
}

std::uint64_t classic_target(const Levels& levels, std::uint64_t floor_in_mib,
                             const EffectiveSettings& effective, Decision& decision) {
  decision.goal_kib = std::max(levels.committed_as_kib, floor_in_mib * kKibPerMib);
  return classic_step_kib(levels.committed_as_kib, levels.memtotal_kib, floor_in_mib,
                          effective.uphysteresis, effective.downhysteresis);
}

// drivers/xen/xen-selfballoon.c selfballoon_process(), in pages as there; the driver's own floor
// is replaced by the common one and totalreserve_pages (invisible from user space) counts as 0.
std::uint64_t kernel_target(const Levels& levels, const KernelPolicyTuning& tuning,
                            PolicyState& state, Decision& decision) {
  if (!state.kernel_reserved_kib) {
    const std::uint64_t reserved_mib =
        tuning.reserved_mib != 0 ? std::min(tuning.reserved_mib, kMaxSizeMib)
                                 : ((levels.memtotal_kib / kKibPerPage) / 10) >> 8;  // PAGES2MB
    state.kernel_reserved_kib = reserved_mib * kKibPerMib;
  }
  const std::uint64_t current_pages = levels.memtotal_kib / kKibPerPage;
  const std::uint64_t goal_pages =
      levels.committed_as_kib / kKibPerPage + *state.kernel_reserved_kib / kKibPerPage;
  const std::uint64_t overhead_pages = levels.overhead_kib / kKibPerPage;
  std::uint64_t target_pages = current_pages;
  if (current_pages > goal_pages) {
    target_pages = step_towards(current_pages, goal_pages, tuning.downhysteresis);
  } else if (current_pages < goal_pages) {
    target_pages = step_towards(current_pages, goal_pages, tuning.uphysteresis);
  }
  decision.goal_kib = (goal_pages + overhead_pages) * kKibPerPage;
  return (target_pages + overhead_pages) * kKibPerPage;
}

std::uint64_t pressure_target(const Levels& levels, std::uint64_t floor_kib,
                              const PressureConfig& config, const EffectiveSettings& effective,
                              const PolicyState& state, milliseconds now, Decision& decision) {
  const PressureSignals& signals = decision.signals;
  const std::uint64_t level = levels.level_kib;
  const std::uint64_t reserve = std::min(config.reserve_mib, kMaxSizeMib) * kKibPerMib;
  const std::uint64_t goal =
      std::max(levels.committed_as_kib + reserve + levels.overhead_kib, floor_kib);
  decision.goal_kib = goal;

  if (signals.pressure()) {
    const std::uint64_t headroom = std::min(config.growth_headroom_mib, kMaxSizeMib) * kKibPerMib;
    // PSI avg10 lingers for tens of seconds after one stall, so only fresh vmstat bursts may add
    // headroom on top of the current size, and at most once per burst window.
    const bool burst = signals.swapin_burst || signals.majfault_burst;
    const bool may_escalate =
        burst && (!state.last_pressure_growth ||
                  now - *state.last_pressure_growth >= seconds(config.burst_window_seconds));
    if (goal < level) decision.hold = ShrinkHold::kPressure;
    return std::max(goal + headroom, may_escalate ? level + headroom : level);
  }
  if (goal > level) return step_towards(level, goal, effective.uphysteresis);
  if (goal == level) return level;

  if (!signals.vmstat_available) {
    decision.hold = ShrinkHold::kSignalsUnavailable;
  } else if (!signals.history_covers_window) {
    decision.hold = ShrinkHold::kHistoryTooShort;
  } else if (cooldown_active(state, now, config)) {
    decision.hold = ShrinkHold::kCooldown;
  }
  if (decision.hold != ShrinkHold::kNone) return level;
  return step_towards(level, goal, effective.downhysteresis);
}

// `value` halved every `half_life_seconds`, after `elapsed_seconds`.
std::uint64_t decayed(std::uint64_t value, double elapsed_seconds,
                      std::uint64_t half_life_seconds) {
  if (value == 0 || elapsed_seconds <= 0) return value;
  const double factor = std::exp2(
      -elapsed_seconds / static_cast<double>(std::max<std::uint64_t>(1, half_life_seconds)));
  return static_cast<std::uint64_t>(static_cast<double>(value) * factor);
}

// The working-set-aware `pressure-v2` policy (docs/policies.md, "pressure-v2"): the goal is
// Committed_AS + reserve + the file working set + the spike headroom; it grows at once to the goal
// and beyond it on a stall, refaults or swap-ins, and shrinks only by small probes while the
// stall stays below its target, never within the cool-down after a back-off.
std::uint64_t working_set_target(const Levels& levels, std::uint64_t floor_kib,
                                 const PolicyInputs& in, const PressureConfig& config,
                                 WorkingSetState& ws, milliseconds now, Decision& decision) {
  const PressureSignals& signals = decision.signals;
  const double elapsed =
      ws.last_update ? std::chrono::duration<double>(now - *ws.last_update).count() : 0.0;
  ws.last_update = now;
  const std::uint64_t ceiling = mib_to_kib(kMaxSizeMib);

  // The file working set: at least what Active(file) holds; a back-off below raises it to the
  // cache the guest had when the refaults came. It decays slowly, so that probes test it again.
  ws.file_working_set_kib =
      std::max(decayed(ws.file_working_set_kib, elapsed, config.file_working_set_half_life_seconds),
               std::min(in.active_file_kib.value_or(0), ceiling));

  // Spikes: the largest recent Committed_AS rise beyond what the balloon delivers after one
  // tick of reaction (what must already be there when it comes), less what swap can take, within
  // the configured bounds. Only once the history spans the window: the first ticks see whatever
  // ran up to the start.
  const double reaction = std::max(1.0, elapsed);
  const std::uint64_t outrun =
      ws.committed.size() > config.spike_window_seconds + 1
          ? ws.committed.outrun(seconds(config.spike_window_seconds),
                                mib_to_kib(config.balloon_rate_mib_per_s), reaction)
          : 0;
  ws.spike_kib = std::max(decayed(ws.spike_kib, elapsed, config.spike_half_life_seconds),
                          std::min(outrun, ceiling));
  // An OOM kill cut a rise short before it could be measured (the killed process's memory
  // never shows in Committed_AS): its size is unknown, so the headroom goes to its bound until a
  // rise the least headroom would not have covered is seen whole (it came, and left the window,
  // with no kill). From then on it is that rise plus the least headroom (for what the estimate
  // cannot see, as the kernel's own allocations during the rise), not decaying and not reduced
  // by swap, for a spike half-life after the kill: this guest cannot afford to forget it.
  const std::uint64_t headroom_min = mib_to_kib(config.headroom_min_mib);
  const std::uint64_t headroom_max = std::max(headroom_min, mib_to_kib(config.headroom_max_mib));
  if (in.oom_kill) {
    if (ws.oom_kills && *in.oom_kill > *ws.oom_kills) {
      ws.last_oom_kill = now;
      ws.rise_since_kill_kib = 0;
      ws.rise_seen_whole = false;
    }
    ws.oom_kills = in.oom_kill;
  }
  std::uint64_t after_kill = 0;
  if (ws.last_oom_kill && now - *ws.last_oom_kill < seconds(config.spike_half_life_seconds)) {
    ws.rise_since_kill_kib = std::max(ws.rise_since_kill_kib, std::min(outrun, ceiling));
    if (outrun == 0 && ws.rise_since_kill_kib > headroom_min) ws.rise_seen_whole = true;
    after_kill = ws.rise_seen_whole ? ws.rise_since_kill_kib + headroom_min : headroom_max;
  }
  // Swap takes a spike only slowly and at the price of swap-ins later: a share of it counts.
  const std::uint64_t absorbed =
      std::min(in.swap_free_kib.value_or(0), ceiling) * config.swap_absorb_percent / 100;
  const std::uint64_t spike_need = ws.spike_kib > absorbed ? ws.spike_kib - absorbed : 0;
  const std::uint64_t headroom =
      std::clamp(std::max(spike_need, after_kill), headroom_min, headroom_max);
  decision.headroom_kib = headroom;

  const std::uint64_t level = levels.level_kib;
  const std::uint64_t base = levels.committed_as_kib + levels.overhead_kib + headroom;
  const std::uint64_t step = mib_to_kib(config.growth_headroom_mib);
  std::uint64_t grow_beyond_goal = 0;
  // Free memory beyond one step is memory nothing uses. A stall while it is there is the
  // aftermath of an eviction (the evicted pages come back as they are touched, for minutes after
  // memory is back), not a shortage: it neither backs off nor restarts the cool-down, and it lets
  // probes take only that spare memory.
  const std::uint64_t spare =
      in.mem_free_kib && *in.mem_free_kib > step ? *in.mem_free_kib - step : 0;
  const bool pressure_signal =
      (signals.psi_high && !signals.reclaim_stall) || signals.refault_burst || signals.swapin_burst;
  if (pressure_signal && spare == 0) {
    ws.last_backoff = now;
    // One step beyond the level the stall came at, at most once per stall window (the window
    // still shows the stall the last step answered).
    const bool may_escalate = !ws.last_backoff_growth ||
                              now - *ws.last_backoff_growth >= seconds(config.stall_window_seconds);
    // Refaults say the file working set did not fit: it is at least the cache the guest had.
    // A stall without them (swap-ins, reclaim) grows the level once and teaches nothing.
    const bool file_stall =
        signals.refault_burst || (signals.psi_high && signals.activations_in_window > 0);
    if (may_escalate) {
      ws.last_backoff_growth = now;
      if (file_stall) {
        const std::uint64_t cache_at_stall = level > base ? level - base : 0;
        ws.file_working_set_kib =
            std::min(ceiling, std::max(ws.file_working_set_kib, cache_at_stall) + step);
      } else {
        grow_beyond_goal = step;
      }
    }
  }
  decision.file_working_set_kib = ws.file_working_set_kib;
  const std::uint64_t goal = std::max(base + ws.file_working_set_kib, floor_kib);
  decision.goal_kib = goal;
  if (ws.last_backoff == now && goal < level) decision.hold = ShrinkHold::kPressure;
  if (grow_beyond_goal != 0) return std::max(goal, level + grow_beyond_goal);
  if (goal >= level) return goal;
  if (ws.last_backoff == now) return level;

  const bool stalling = pressure_signal || signals.stall_percent >= config.stall_target_percent;
  if (!signals.stall_available) {
    decision.hold = ShrinkHold::kSignalsUnavailable;
  } else if (!signals.history_covers_window) {
    decision.hold = ShrinkHold::kHistoryTooShort;
  } else if (ws.last_backoff && now - *ws.last_backoff < seconds(config.backoff_cooldown_seconds)) {
    decision.hold = ShrinkHold::kCooldown;
  } else if (stalling && spare == 0) {
    decision.hold = ShrinkHold::kStall;
  }
  if (decision.hold != ShrinkHold::kNone) return level;
  auto probe = std::max(kKibPerPage, static_cast<std::uint64_t>(static_cast<double>(level) *
                                                                config.probe_percent / 100.0));
  if (stalling) probe = std::min(probe, spare);
  return std::max(goal, level - std::min(level, probe));
}

Decision skip(Decision decision, SkipReason reason, std::string detail) {
  decision.target_kib.reset();
  decision.direction = Direction::kNone;
  decision.skip_reason = reason;
  decision.skip_detail = std::move(detail);
  return decision;
}

std::string kib_text(std::uint64_t kib) {
  return std::to_string(kib) + " KiB";
}

Direction direction_from(std::optional<std::uint64_t> reference, std::uint64_t target) {
  if (!reference || *reference == target) return Direction::kNone;
  return target > *reference ? Direction::kUp : Direction::kDown;
}

}  // namespace

PolicySettings policy_settings(const AgentConfig& config) {
  PolicySettings settings;
  settings.kind = config.policy;
  settings.selfballoon = config.selfballoon;
  settings.minmem_mib = config.minmem_mib;
  settings.uphysteresis = config.uphysteresis;
  settings.downhysteresis = config.downhysteresis;
  settings.pressure = config.pressure;
  return settings;
}

std::optional<std::uint64_t>& Dom0Overrides::slot(Override which) {
  return const_cast<std::optional<std::uint64_t>&>(std::as_const(*this).slot(which));
}

const std::optional<std::uint64_t>& Dom0Overrides::slot(Override which) const {
  switch (which) {
    case Override::kSelfballoon:
      return selfballoon;
    case Override::kInterval:
      return interval_seconds;
    case Override::kUphysteresis:
      return uphysteresis;
    case Override::kDownhysteresis:
      return downhysteresis;
    case Override::kMinmem:
      return minmem_mib;
  }
  return selfballoon;  // unreachable: every Override is named above
}

std::optional<std::uint64_t> Dom0Overrides::accepted(Override which) const {
  const std::optional<std::uint64_t>& value = slot(which);
  if (!value || xenstore::keys::check_override(which, *value)) return std::nullopt;
  return value;
}

EffectiveSettings apply_overrides(const PolicySettings& settings, const Dom0Overrides& overrides) {
  EffectiveSettings effective;
  effective.selfballoon = settings.selfballoon;
  effective.uphysteresis = settings.uphysteresis;
  effective.downhysteresis = settings.downhysteresis;
  effective.minmem_mib = std::min(settings.minmem_mib, kMaxSizeMib);

  for (const xenstore::keys::OverrideSpec& spec : xenstore::keys::overrides()) {
    if (!overrides.slot(spec.which)) continue;
    const std::optional<std::uint64_t> value = overrides.accepted(spec.which);
    if (!value) {
      effective.override_rejected = true;
      continue;
    }
    switch (spec.which) {
      case Override::kSelfballoon:
        effective.selfballoon = *value == 1;
        break;
      case Override::kUphysteresis:
        effective.uphysteresis = *value;
        break;
      case Override::kDownhysteresis:
        effective.downhysteresis = *value;
        break;
      case Override::kMinmem:
        effective.minmem_mib = *value;
        break;
      case Override::kInterval:  // effective_interval_seconds()
        break;
    }
  }
  return effective;
}

std::uint64_t effective_interval_seconds(std::uint64_t configured, const Dom0Overrides& overrides) {
  return overrides.accepted(Override::kInterval).value_or(configured);
}

std::uint64_t classic_step_kib(std::uint64_t committed_as_kib, std::uint64_t memtotal_kib,
                               std::uint64_t floor_mib, std::uint64_t uphysteresis,
                               std::uint64_t downhysteresis) {
  // Bytes, like the script: the step divides a byte difference, so the result need not be a
  // whole KiB; the truncation to KiB (and the kernel's to pages) comes last.
  const std::uint64_t min_bytes = floor_mib * 1024 * 1024;
  std::uint64_t target_bytes = committed_as_kib * 1024;
  if (target_bytes < min_bytes) target_bytes = min_bytes;
  const std::uint64_t current_bytes = memtotal_kib * 1024;
  if (current_bytes > target_bytes) {
    if (downhysteresis != 0) {
      target_bytes = current_bytes - (current_bytes - target_bytes) / downhysteresis;
    }
  } else if (current_bytes < target_bytes) {
    // The script divided unguarded; bash fails a division by 0 and leaves the target unstepped.
    if (uphysteresis != 0) {
      target_bytes = current_bytes + (target_bytes - current_bytes) / uphysteresis;
    }
  }
  return target_bytes / 1024;
}

Decision decide(const PolicyInputs& in, PolicyState& state, const PolicySettings& settings) {
  Decision decision;
  decision.effective = apply_overrides(settings, in.overrides);
  const EffectiveSettings& effective = decision.effective;

  if (state.last_tick && in.now < *state.last_tick) {
    // A monotonic clock never does this; start over rather than trust negative durations.
    const std::optional<std::uint64_t> kernel_reserved_kib = state.kernel_reserved_kib;
    state = PolicyState{};
    state.kernel_reserved_kib = kernel_reserved_kib;
  }
  state.last_tick = in.now;
  if (in.pswpin && in.pgmajfault) state.vmstat.record(in.now, *in.pswpin, *in.pgmajfault);
  decision.signals = read_signals(in, state, settings.pressure);
  if (settings.kind == PolicyKind::kPressureV2) {
    record_working_set(in, state.working_set);
    read_working_set_signals(state.working_set, settings.pressure, decision.signals);
  }
  if (decision.signals.pressure()) state.last_pressure = in.now;

  if (!in.static_max_kib || *in.static_max_kib == 0) {
    return skip(std::move(decision), SkipReason::kMissingStaticMax,
                "memory/static-max is missing or 0");
  }
  const std::uint64_t static_max = *in.static_max_kib;
  if (static_max > kMaxPlausibleStaticMaxKib) {
    return skip(std::move(decision), SkipReason::kImplausibleInput,
                "memory/static-max " + kib_text(static_max) + " is beyond 1 PiB");
  }
  if (!in.dom0_target_kib || *in.dom0_target_kib == 0) {
    return skip(std::move(decision), SkipReason::kMissingDom0Target,
                "memory/target is missing or 0");
  }
  const std::uint64_t committed_limit = static_max * kMaxCommittedPerStaticMax;
  const std::uint64_t memtotal_limit = static_max * kMaxMemTotalPerStaticMax;
  if (*in.dom0_target_kib > committed_limit) {
    return skip(std::move(decision), SkipReason::kImplausibleInput,
                "memory/target " + kib_text(*in.dom0_target_kib) + " is over " +
                    std::to_string(kMaxCommittedPerStaticMax) + " times static-max");
  }
  for (const auto& [value, name] : {std::pair{in.balloon_target_kib, "balloon target_kb"},
                                    std::pair{in.balloon_current_kib, "balloon current_kb"}}) {
    if (value && *value > memtotal_limit) {
      return skip(std::move(decision), SkipReason::kImplausibleInput,
                  std::string(name) + " " + kib_text(*value) + " is over " +
                      std::to_string(kMaxMemTotalPerStaticMax) + " times static-max");
    }
  }

  decision.ceiling_kib = std::min(*in.dom0_target_kib, static_max);
  decision.floor_kib = floor_mib(effective.minmem_mib, static_max) * kKibPerMib;
  const std::optional<std::uint64_t> reference =
      in.balloon_target_kib ? in.balloon_target_kib
                            : (in.balloon_current_kib ? in.balloon_current_kib : in.memtotal_kib);

  std::uint64_t unclamped = 0;
  if (!effective.selfballoon || settings.kind == PolicyKind::kNone) {
    decision.directed = !effective.selfballoon;
    decision.goal_kib = decision.ceiling_kib;
    unclamped = decision.ceiling_kib;
  } else {
    if (!in.memtotal_kib || *in.memtotal_kib == 0) {
      return skip(std::move(decision), SkipReason::kMissingMemTotal, "MemTotal is missing or 0");
    }
    if (*in.memtotal_kib > memtotal_limit) {
      return skip(std::move(decision), SkipReason::kImplausibleInput,
                  "MemTotal " + kib_text(*in.memtotal_kib) + " is over " +
                      std::to_string(kMaxMemTotalPerStaticMax) + " times static-max");
    }
    if (!in.committed_as_kib) {
      return skip(std::move(decision), SkipReason::kMissingCommittedAs, "Committed_AS is missing");
    }
    if (*in.committed_as_kib > committed_limit) {
      return skip(std::move(decision), SkipReason::kImplausibleInput,
                  "Committed_AS " + kib_text(*in.committed_as_kib) + " is over " +
                      std::to_string(kMaxCommittedPerStaticMax) + " times static-max");
    }
    const Levels levels = levels_from(in);
    switch (settings.kind) {
      case PolicyKind::kClassic:
        unclamped = classic_target(levels, floor_mib(effective.minmem_mib, static_max), effective,
                                   decision);
        break;
      case PolicyKind::kKernel:
        unclamped = kernel_target(levels, settings.kernel, state, decision);
        break;
      case PolicyKind::kPressure:
        unclamped = pressure_target(levels, decision.floor_kib, settings.pressure, effective, state,
                                    in.now, decision);
        break;
      case PolicyKind::kPressureV2:
        unclamped = working_set_target(levels, decision.floor_kib, in, settings.pressure,
                                       state.working_set, in.now, decision);
        break;
      case PolicyKind::kNone:  // handled with directed mode above
        unclamped = decision.ceiling_kib;
        break;
    }
  }

  // The floor first, then the ceiling: when dom0's target is below the floor, dom0 wins.
  const std::uint64_t stepped =
      std::min(std::max(unclamped, decision.floor_kib), decision.ceiling_kib);
  // The growth is remembered from the step itself, before page rounding, as it always was.
  if (settings.kind == PolicyKind::kPressure && decision.signals.pressure() && reference &&
      stepped > *reference) {
    state.last_pressure_growth = in.now;
  }
  // A step the ceiling made is not finished: when dom0 lowers its target under a hold (or under
  // a step that stayed above it), the step of under 1 MiB down to the new ceiling is dom0's, not
  // the end of a hysteresis, and finishing it would shrink the guest all the way to its goal.
  const std::uint64_t target =
      unclamped > decision.ceiling_kib
          ? stepped / kKibPerPage * kKibPerPage
          : finish_target_kib(stepped, in.balloon_target_kib, decision.goal_kib, decision.floor_kib,
                              decision.ceiling_kib);
  decision.target_kib = target;
  decision.direction = direction_from(reference, target);
  return decision;
}

std::uint64_t finish_target_kib(std::uint64_t stepped_kib,
                                std::optional<std::uint64_t> balloon_target_kib,
                                std::uint64_t goal_kib, std::uint64_t floor_kib,
                                std::uint64_t ceiling_kib) {
  const std::uint64_t target = stepped_kib / kKibPerPage * kKibPerPage;
  if (!balloon_target_kib) return target;
  const std::uint64_t from = *balloon_target_kib;
  const std::uint64_t step = target > from ? target - from : from - target;
  const std::uint64_t final_kib =
      floor_kib <= ceiling_kib ? std::clamp(goal_kib, floor_kib, ceiling_kib) : ceiling_kib;
  // Only a step on its way to the goal is finished: not a hold (no step at all), and not a
  // growth above the goal under pressure, which must not turn into a shrink to the goal.
  const bool towards_goal = (stepped_kib > from && final_kib >= stepped_kib) ||
                            (stepped_kib < from && final_kib <= stepped_kib);
  if (step > 0 && step < kFinishStepKib && final_kib != 0 && towards_goal) {
    return final_kib / kKibPerPage * kKibPerPage;
  }
  return target;
}

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::kNone:
      return "none";
    case Direction::kUp:
      return "up";
    case Direction::kDown:
      return "down";
  }
  return "unknown";
}

std::string_view to_string(SkipReason reason) {
  switch (reason) {
    case SkipReason::kNone:
      return "none";
    case SkipReason::kMissingStaticMax:
      return "missing-static-max";
    case SkipReason::kMissingDom0Target:
      return "missing-dom0-target";
    case SkipReason::kMissingMemTotal:
      return "missing-memtotal";
    case SkipReason::kMissingCommittedAs:
      return "missing-committed-as";
    case SkipReason::kImplausibleInput:
      return "implausible-input";
  }
  return "unknown";
}

std::string_view to_string(ShrinkHold hold) {
  switch (hold) {
    case ShrinkHold::kNone:
      return "none";
    case ShrinkHold::kPressure:
      return "pressure";
    case ShrinkHold::kCooldown:
      return "cooldown";
    case ShrinkHold::kSignalsUnavailable:
      return "signals-unavailable";
    case ShrinkHold::kHistoryTooShort:
      return "history-too-short";
    case ShrinkHold::kStall:
      return "stall";
  }
  return "unknown";
}

std::string describe(const Decision& decision) {
  if (decision.skipped()) return "skip, because " + decision.skip_detail;
  std::string text = "target " + kib_text(*decision.target_kib) + " (" +
                     std::string(to_string(decision.direction)) + ")";
  if (decision.directed) text += ", directed by dom0";
  if (decision.hold != ShrinkHold::kNone) {
    text += ", shrink held: " + std::string(to_string(decision.hold));
  }
  return text;
}

}  // namespace xenballoon
