// Balloon target policies as pure functions of (inputs, state, settings) -> decision: no I/O, no
// clock, no globals. The arithmetic, every threshold and the ceiling rule: docs/policies.md.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/policy/history.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon {

// Values dom0 may write live under the guest's memory/ in xenstore; absent = not written.
// A value outside its range in xenstore::keys::overrides() is ignored.
struct Dom0Overrides {
  std::optional<std::uint64_t> selfballoon;       // memory/selfballoon: 1 on, 0 off
  std::optional<std::uint64_t> interval_seconds;  // memory/interval
  std::optional<std::uint64_t> uphysteresis;      // memory/uphysteresis
  std::optional<std::uint64_t> downhysteresis;    // memory/downhysteresis
  std::optional<std::uint64_t> minmem_mib;        // memory/minmem; 0 = derive from static-max

  // The field that holds `which`.
  std::optional<std::uint64_t>& slot(xenstore::keys::Override which);
  const std::optional<std::uint64_t>& slot(xenstore::keys::Override which) const;
  // The value of `which` when it is set and within its range.
  std::optional<std::uint64_t> accepted(xenstore::keys::Override which) const;
};

// One tick's observations. Sizes in KiB; absent = the read failed or the source does not exist.
struct PolicyInputs {
  std::chrono::milliseconds now{0};                       // any monotonic clock
  std::optional<std::uint64_t> committed_as_kib;          // /proc/meminfo Committed_AS
  std::optional<std::uint64_t> memtotal_kib;              // /proc/meminfo MemTotal
  std::optional<std::uint64_t> balloon_target_kib;        // xen_memory0/target_kb
  std::optional<std::uint64_t> balloon_current_kib;       // xen_memory0/info/current_kb
  std::optional<std::uint64_t> dom0_target_kib;           // xenstore memory/target
  std::optional<std::uint64_t> static_max_kib;            // xenstore memory/static-max
  std::optional<double> psi_some_avg10;                   // /proc/pressure/memory, percent
  std::optional<std::uint64_t> psi_some_total_us;         // /proc/pressure/memory some total=
  std::optional<std::uint64_t> pswpin;                    // /proc/vmstat, cumulative pages
  std::optional<std::uint64_t> pswpout;                   // /proc/vmstat, cumulative pages
  std::optional<std::uint64_t> pgmajfault;                // /proc/vmstat, cumulative faults
  std::optional<std::uint64_t> workingset_refault_file;   // /proc/vmstat, cumulative pages
  std::optional<std::uint64_t> workingset_activate_file;  // /proc/vmstat, cumulative pages
  std::optional<std::uint64_t> oom_kill;                  // /proc/vmstat, cumulative kills
  std::optional<std::uint64_t> active_file_kib;           // /proc/meminfo Active(file)
  std::optional<std::uint64_t> inactive_file_kib;         // /proc/meminfo Inactive(file)
  std::optional<std::uint64_t> swap_free_kib;             // /proc/meminfo SwapFree
  std::optional<std::uint64_t> mem_free_kib;              // /proc/meminfo MemFree
  Dom0Overrides overrides;
};

// The in-kernel selfballoon driver's tunables (drivers/xen/xen-selfballoon.c).
struct KernelPolicyTuning {
  std::uint64_t downhysteresis = 8;
  std::uint64_t uphysteresis = 1;
  std::uint64_t reserved_mib = 0;  // 0: a tenth of MemTotal at the first tick, as the driver does

  bool operator==(const KernelPolicyTuning&) const = default;
};

// What the policies read from the configuration. A plain value. Sizes above kMaxSizeMib count as
// kMaxSizeMib, so settings built in code cannot overflow the arithmetic.
struct PolicySettings {
  PolicyKind kind = PolicyKind::kPressure;
  bool selfballoon = true;
  std::uint64_t minmem_mib = 0;
  std::uint64_t uphysteresis = 1;
  std::uint64_t downhysteresis = 10;
  PressureConfig pressure;
  KernelPolicyTuning kernel;

  bool operator==(const PolicySettings&) const = default;
};

PolicySettings policy_settings(const AgentConfig& config);

// The settings after dom0's overrides.
struct EffectiveSettings {
  bool selfballoon = true;
  std::uint64_t uphysteresis = 1;
  std::uint64_t downhysteresis = 10;
  std::uint64_t minmem_mib = 0;
  bool override_rejected = false;  // dom0 wrote a value out of range; it was ignored

  bool operator==(const EffectiveSettings&) const = default;
};

EffectiveSettings apply_overrides(const PolicySettings& settings, const Dom0Overrides& overrides);

// The tick interval: dom0's memory/interval when within its range, else `configured`.
std::uint64_t effective_interval_seconds(std::uint64_t configured, const Dom0Overrides& overrides);

// Per-second samples of pswpin and pgmajfault, enough to look back kMaxBurstWindowSeconds.
// Fixed size, no allocation. Not thread-safe.
class VmstatHistory {
 public:
  static constexpr std::size_t kCapacity = kHistoryCapacity;

  struct Increase {
    std::uint64_t pswpin = 0;
    std::uint64_t pgmajfault = 0;
    bool covers_window = false;  // false: the history is younger than the window (a lower bound)
  };

  // Samples in the same second replace each other (the counters are cumulative). A counter or
  // the clock going backwards restarts the history.
  void record(std::chrono::milliseconds now, std::uint64_t pswpin, std::uint64_t pgmajfault);

  // Increase from the newest sample taken at least `window` before the newest one (whole
  // seconds, at most kMaxBurstWindowSeconds) to the newest; zero when empty.
  Increase increase_over(std::chrono::seconds window) const;

  void clear();
  std::size_t size() const { return counters_.size(); }

 private:
  CounterHistory<2> counters_;
};

// What the `pressure-v2` policy learns about the guest (docs/policies.md, "pressure-v2").
struct WorkingSetState {
  // PSI some total (µs), workingset_activate_file, workingset_refault_file, pswpin, pswpout; the
  // ones unread this tick count as 0, and a change in which are read restarts the history.
  CounterHistory<5> counters;
  unsigned counters_read = 0;              // bit i: counter i was read
  LevelHistory committed;                  // Committed_AS, KiB
  std::uint64_t file_working_set_kib = 0;  // decaying estimate
  std::uint64_t spike_kib = 0;             // decaying largest recent Committed_AS rise
  // For a day after an OOM kill: when it came, the largest rise seen since, and whether that
  // rise was seen whole; the last oom_kill count read.
  std::optional<std::chrono::milliseconds> last_oom_kill;
  std::uint64_t rise_since_kill_kib = 0;
  bool rise_seen_whole = false;
  std::optional<std::uint64_t> oom_kills;
  std::optional<std::chrono::milliseconds> last_update;
  std::optional<std::chrono::milliseconds> last_backoff;         // last tick that backed off
  std::optional<std::chrono::milliseconds> last_backoff_growth;  // last growth beyond the goal
};

// What a policy remembers between ticks. Fixed size, no allocation. Not thread-safe: one per
// agent loop, passed to every decide() call in order.
struct PolicyState {
  VmstatHistory vmstat;
  std::optional<std::chrono::milliseconds> last_tick;
  std::optional<std::chrono::milliseconds> last_pressure;         // last tick that signalled it
  std::optional<std::chrono::milliseconds> last_pressure_growth;  // last growth on pressure
  std::optional<std::uint64_t> kernel_reserved_kib;               // latched at the first tick
  WorkingSetState working_set;                                    // `pressure-v2` only
};

enum class Direction { kNone, kUp, kDown };

enum class SkipReason {
  kNone,
  kMissingStaticMax,    // memory/static-max unread or 0
  kMissingDom0Target,   // memory/target unread or 0
  kMissingMemTotal,     // MemTotal unread or 0
  kMissingCommittedAs,  // Committed_AS unread
  kImplausibleInput,    // a number far beyond static-max (a misread, not a guest)
};

// Why a shrink the goal asked for did not happen.
enum class ShrinkHold {
  kNone,
  kPressure,            // PSI or a swap-in or major-fault burst right now
  kCooldown,            // pressure ended less than shrink_cooldown_seconds ago
  kSignalsUnavailable,  // pswpin or pgmajfault unread this tick
  kHistoryTooShort,     // the vmstat history does not yet reach back one burst window
  kStall,               // `pressure-v2`: the stall is above its target (below the back-off)
};

// The pressure signals of one tick, whatever the policy (they are published too).
struct PressureSignals {
  bool psi_available = false;
  bool psi_high = false;
  bool vmstat_available = false;
  bool history_covers_window = false;
  std::uint64_t swapin_pages_in_window = 0;
  std::uint64_t majfaults_in_window = 0;
  bool swapin_burst = false;
  bool majfault_burst = false;
  // `pressure-v2` only: the stall and the refaults over the stall window.
  bool stall_available = false;             // PSI some total or workingset_activate_file read
  double stall_percent = 0;                 // PSI some total's increase per second of the window
  std::uint64_t activations_in_window = 0;  // workingset_activate_file increase
  bool refault_burst = false;
  bool reclaim_stall = false;  // the stall came with no refault and no swap traffic: no back-off

  bool pressure() const { return psi_high || swapin_burst || majfault_burst || refault_burst; }
};

// A balloon target in KiB, or a skip with its reason. A plain value.
struct Decision {
  std::optional<std::uint64_t> target_kib;  // page-rounded, what reaches the driver; absent: skip
  Direction direction = Direction::kNone;   // against the balloon target in force
  SkipReason skip_reason = SkipReason::kNone;
  std::string skip_detail;  // only on skips: "memory/static-max is missing"
  bool directed = false;    // selfballooning off: following dom0's memory/target
  ShrinkHold hold = ShrinkHold::kNone;
  PressureSignals signals;
  std::uint64_t floor_kib = 0;             // 0 when a skip came first
  std::uint64_t ceiling_kib = 0;           // min(memory/target, static-max)
  std::uint64_t goal_kib = 0;              // where the policy heads, before hysteresis and clamping
  std::uint64_t file_working_set_kib = 0;  // `pressure-v2`: the file working set in the goal
  std::uint64_t headroom_kib = 0;          // `pressure-v2`: the spike headroom in the goal
  EffectiveSettings effective;

  bool skipped() const { return !target_kib.has_value(); }
};

// Implausibility limits: a static-max above this, or a reading that far beyond static-max, is a
// misread and the tick is skipped.
inline constexpr std::uint64_t kMaxPlausibleStaticMaxKib = std::uint64_t{1} << 40;  // 1 PiB
inline constexpr std::uint64_t kMaxMemTotalPerStaticMax = 2;     // MemTotal, current_kb, target_kb
inline constexpr std::uint64_t kMaxCommittedPerStaticMax = 256;  // Committed_AS, memory/target

// One tick: updates `state` and returns the decision, whose target is the one the agent writes
// to the driver (finish_target_kib() has been applied). Deterministic: the same arguments and
// state always give the same decision and the same new state.
Decision decide(const PolicyInputs& inputs, PolicyState& state, const PolicySettings& settings);

// The balloon driver works in pages, and hysteresis ends in ever smaller steps.
inline constexpr std::uint64_t kKibPerPage = 4;
inline constexpr std::uint64_t kFinishStepKib = 1024;  // a smaller step goes the whole way

// The last stage of decide(): `stepped_kib` (the policy's step, clamped to [floor, ceiling])
// rounded down to a page; a step of less than kFinishStepKib from the balloon target in force
// towards the goal is instead finished in one go, to the goal clamped to [floor, ceiling] (dom0's
// target when it is below the floor), rounded down to a page. A hold (stepped_kib is the balloon
// target) and a step away from the goal (growth on pressure) are only rounded, as is every step
// without a balloon target.
std::uint64_t finish_target_kib(std::uint64_t stepped_kib,
                                std::optional<std::uint64_t> balloon_target_kib,
                                std::uint64_t goal_kib, std::uint64_t floor_kib,
                                std::uint64_t ceiling_kib);

// The 2008 xenballoond script's selfballoon step in bytes, returned in KiB, before any clamp:
// target = max(Committed_AS, floor); from cur = MemTotal step 1/downhysteresis of the way down or
// 1/uphysteresis of the way up (0 = jump).
std::uint64_t classic_step_kib(std::uint64_t committed_as_kib, std::uint64_t memtotal_kib,
                               std::uint64_t floor_mib, std::uint64_t uphysteresis,
                               std::uint64_t downhysteresis);

std::string_view to_string(Direction direction);
std::string_view to_string(SkipReason reason);
std::string_view to_string(ShrinkHold hold);

// "target 262144 KiB (up)" or "skip, because memory/static-max is missing".
std::string describe(const Decision& decision);

}  // namespace xenballoon
