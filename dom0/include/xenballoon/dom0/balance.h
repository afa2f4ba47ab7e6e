// The dom0 ballooning policy (xenballoon-balancer) as a pure function: each guest's need from
// what it publishes, host memory shared among the guests by weight within their bounds,
// rate-limited steps, and two phases as squeezed does them (shrinks first; grows only from
// memory that is free now, so the host is never overcommitted in between). No I/O, no clock:
// the daemon and its benchmark call the same function. docs/balancer.md explains the arithmetic.
// Thread-safe (pure functions and plain values).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xenballoon/publish/guest_stats.h"

namespace xenballoon::dom0::balance {

// How far the balancer may count on a guest. kStuck: no progress toward its last target for
// the configured time; kUncooperative: no balloon driver or agent answering; both keep their
// current target and the memory they hold is not counted as reclaimable until they move
// (GuestProgress decides these). kPinned: configured never to change. kExcluded: not managed;
// what it holds is reserved.
enum class GuestState { kOk, kStuck, kUncooperative, kPinned, kExcluded };
std::string_view to_string(GuestState state);

// Per-guest settings from the configuration (matched by name or uuid, defaults otherwise).
// Sizes in KiB; 0 for min_kib / max_kib means "none configured". Plain value.
struct GuestSettings {
  std::uint64_t min_kib = 0;  // never below (besides the agent's floor)
  std::uint64_t max_kib = 0;  // never above (besides static-max)
  double weight = 1.0;        // share of the spare memory, relative to the other guests
  bool pinned = false;
  bool excluded = false;
  bool operator==(const GuestSettings&) const = default;
};

// Per-second rates of the pressure counters between two steps, from the guest's published
// counters (vmstat, PSI total); used by the need. Plain value.
struct PressureRates {
  double psi_some_share = 0;  // share of the interval with a task stalled (0..1)
  double swapin_pages_per_second = 0, majfault_per_second = 0, refault_pages_per_second = 0;
};

// One guest as the balancer sees it in one step. Sizes in KiB. Plain value.
struct GuestInput {
  std::uint32_t domid = 0;
  std::string uuid, name;
  std::uint64_t target_kib = 0;      // memory/target now (dom0's)
  std::uint64_t static_max_kib = 0;  // memory/static-max
  // What the guest holds now (its balloon's current_kb, or the toolstack's figure); absent:
  // assume target_kib.
  std::optional<std::uint64_t> actual_kib;
  // What it publishes (empty for a guest without an agent: it is treated by its settings and
  // its current target only).
  publish::GuestStats stats;
  GuestState state = GuestState::kOk;
  PressureRates rates;  // from GuestProgress
  GuestSettings settings;
};

// The host in one step. Sizes in KiB. Plain value.
struct HostInput {
  std::uint64_t total_kib = 0;  // all the host's memory
  std::uint64_t free_kib = 0;   // not given to any domain now
};

// The policy's settings (the configuration's `policy:` section). Plain value.
struct Settings {
  std::uint64_t host_reserve_kib = 256 * 1024;  // kept free on the host at all times
  std::uint64_t guest_reserve_kib = 64 * 1024;  // added to Committed_AS in a guest's need
  std::uint64_t default_min_kib = 128 * 1024;   // a guest's min when nothing else says
  // Pressure raises the need: by this fraction of Committed_AS at full pressure (PSI some share
  // of the step 100 %, or swap-ins / major faults / refaults at the rates below).
  double pressure_boost = 0.5;
  double psi_full_share = 0.10;            // stall share counted as full pressure
  double swapin_pages_per_second = 256;    // swap-in rate counted as full pressure
  double majfault_per_second = 1000;       // major-fault rate counted as full pressure
  double refault_pages_per_second = 2048;  // file refault rate counted as full pressure
  // Step limits: a target moves at most this fast and this far per step, and moves smaller than
  // min_step_kib are skipped (no oscillation). 0 for the rate or the fraction: no such limit.
  std::uint64_t max_rate_kib_per_second = 256 * 1024;
  double max_step_fraction = 0.25;  // of the guest's current target
  std::uint64_t min_step_kib = 16 * 1024;
  bool operator==(const Settings&) const = default;
};

// Why a guest's target is what it is after a step (a metric label). Plain enum.
enum class Reason {
  kUnchanged,       // already at its share, or the change is below min_step_kib
  kGrowForNeed,     // raised toward its need
  kGrowShare,       // raised with spare memory shared by weight
  kShrinkIdle,      // lowered: holds more than its need while others need memory
  kShrinkToBounds,  // lowered or raised into [min, max]
  kRateLimited,     // moved, but less than its share (rate or step limit)
  kWaitingForFree,  // should grow, but the host has no free memory yet (shrinks pending)
  kPinned,
  kExcluded,
  kStuck,
  kUncooperative,
};
std::string_view to_string(Reason reason);

// What the step decided for one guest. Sizes in KiB. Plain value.
struct GuestPlan {
  std::uint32_t domid = 0;
  std::uint64_t need_kib = 0;              // Committed_AS + reserve, raised by pressure; bounded
  std::uint64_t share_kib = 0;             // where it should be, before the step limits
  std::uint64_t target_kib = 0;            // what to set now (== the input's target when unchanged)
  std::uint64_t min_kib = 0, max_kib = 0;  // the bounds in force
  Reason reason = Reason::kUnchanged;
  std::uint64_t from_kib = 0;  // the input's target
  bool changed() const;        // target_kib != from_kib
};

// One target to set, in the order to set them: every shrink before any grow. Plain value.
struct Action {
  std::uint32_t domid = 0;
  std::uint64_t from_kib = 0, to_kib = 0;
};

// The result of one step. Plain value.
struct Plan {
  std::vector<GuestPlan> guests;        // in the input's order
  std::vector<Action> actions;          // shrinks (largest first), then grows
  std::uint64_t available_kib = 0;      // host memory the guests may hold in all (total - reserve
                                        // - what excluded, stuck and uncooperative guests hold)
  std::uint64_t unmet_kib = 0;          // sum of need the step could not give
  std::uint64_t unreclaimable_kib = 0;  // held by stuck/uncooperative guests above their target
};

// One step. `elapsed_seconds` since the previous step bounds the rate limit (the first step:
// the configured interval). Invariants (tested): every target within [min, max] of its guest
// unless held (pinned, excluded, stuck, uncooperative keep theirs) or below its min and waiting
// for free memory to grow into it (kWaitingForFree, moved toward min as far as it could); the sum
// of every guest's max(target, actual) after the step never exceeds what the host can back (total -
// reserve) when it did not before; a grow never exceeds the host's free memory minus the reserve
// minus what the step's other grows take.
Plan plan_step(const HostInput& host, const std::vector<GuestInput>& guests,
               const Settings& settings, double elapsed_seconds);

// Remembers each guest's last counters and target progress between steps; decides pressure
// rates and stuck/uncooperative states. Pure (time is passed in). Not synchronized.
class GuestProgress {
 public:
  struct Options {
    double stuck_after_seconds = 60;     // no move toward the target for this long: stuck
    double retry_after_seconds = 300;    // a stuck guest is counted on again after this long
    std::uint64_t tolerance_kib = 1024;  // within this of the target counts as arrived
  };
  GuestProgress() = default;
  explicit GuestProgress(Options options) : options_(options) {}

  // Observes one guest at `now` (seconds on any monotonic clock): its uuid (a new uuid for a
  // domid starts afresh), target, what it holds and its stats. Returns its state and rates.
  struct Observation {
    GuestState state = GuestState::kOk;
    PressureRates rates;
  };
  Observation observe(std::uint32_t domid, std::string_view uuid, std::uint64_t target_kib,
                      std::optional<std::uint64_t> actual_kib, const publish::GuestStats& stats,
                      double now);
  // Forgets domains not in `present` (destroyed, migrated away).
  void retain(const std::vector<std::uint32_t>& present);

 private:
  struct Track;
  Options options_;
  std::vector<std::pair<std::uint32_t, std::shared_ptr<Track>>> tracks_;
};

// The need of one guest (KiB) from its stats and pressure, bounded by [min, max]; what
// plan_step uses, exposed for tests and the daemon's metrics.
std::uint64_t guest_need_kib(const GuestInput& guest, const Settings& settings);

// The bounds of one guest (KiB): min = max(settings.min_kib or default_min_kib, the agent's
// floor); max = min(static-max, settings.max_kib when set); static-max unknown (0 in the input
// and in the stats): max(target, actual). A min above the max is lowered to the max. Plain value.
struct GuestBounds {
  std::uint64_t min_kib = 0, max_kib = 0;
  bool operator==(const GuestBounds&) const = default;
};
GuestBounds guest_bounds(const GuestInput& guest, const Settings& settings);

// The pressure of one guest in [0, 1] from its rates (the largest of the four ratios to their
// full-pressure settings, each capped at 1); the need is raised by pressure_boost times this.
double guest_pressure(const PressureRates& rates, const Settings& settings);

}  // namespace xenballoon::dom0::balance
