// xenballoon-balancer-bench: the dom0 policies under test on a simulated host: static targets,
// selfballooning alone (the boot targets as ceilings), squeezed's proportional split and Qubes'
// qmemman (both written from their published descriptions), and xenballoon-balancer's own
// balance::plan_step with GuestProgress, fed what the guests' agents publish. Targets reach the
// guests through GuestModel::set_dom0_target_kib, which moves Xen's max_pages as libxl does.
// Not thread-safe: one Dom0Controller per simulated host.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "xenballoon/dom0/balance.h"
#include "xenballoon/publish/guest_stats.h"
#include "xenballoon/sim/simulation.h"

namespace xenballoon::sim::balancer_bench {

// kBalancerSelf is the balancer over selfballooning guests (its targets are their ceilings);
// squeezed, qmemman and kBalancer direct their guests (the guests follow dom0's target).
enum class Dom0Policy { kStatic, kSelfballoon, kSqueezed, kQmemman, kBalancer, kBalancerSelf };
inline constexpr Dom0Policy kDom0Policies[] = {Dom0Policy::kStatic,   Dom0Policy::kSelfballoon,
                                               Dom0Policy::kSqueezed, Dom0Policy::kQmemman,
                                               Dom0Policy::kBalancer, Dom0Policy::kBalancerSelf};

std::string_view policy_name(Dom0Policy policy);

// How the guests' agents run under a dom0 policy: not at all (static), selfballooning below
// dom0's target, or directed (the balloon follows memory/target, as squeezed's and Qubes'
// guests do).
enum class GuestMode { kNone, kSelfballoon, kDirected };
GuestMode guest_mode(Dom0Policy policy);

// Every dom0 policy steps this often (xenballoon-balancer's default interval_seconds).
inline constexpr std::int64_t kDom0IntervalSeconds = 5;
// qmemman's preferred size: what the guest uses times this (its CACHE_FACTOR).
inline constexpr double kQmemmanCacheFactor = 1.3;
// qmemman never prefers less than this for a guest.
inline constexpr std::uint64_t kQmemmanMinPrefKib = 200 * 1024;

// What the guest's agent publishes in data/xenballoon/ (its mode, the default vmstat fields),
// taken from the model directly, with dom0's memory/target and static-max.
publish::GuestStats published_stats(const GuestModel& guest, std::uint64_t floor_kib,
                                    GuestMode mode);

// One dom0 policy for the whole host.
class Dom0Controller {
 public:
  explicit Dom0Controller(Dom0Policy policy) : policy_(policy) {}

  // One step at model second `now`: reads the host and the guests' last publications (one per
  // guest, in scenario order) and sets the targets it decides on.
  void step(Simulation& simulation, const std::vector<publish::GuestStats>& published,
            std::int64_t now);

  Dom0Policy policy() const { return policy_; }

  // balancer and balancer-self: guest-steps the plan left waiting_for_free, those of them in which
  // the host had more than the reserve plus min_step_kib free (the headroom budget held the grow
  // back), and those in which the guest's need was above what it held.
  struct WaitCounts {
    std::uint64_t waiting = 0, with_free = 0, needy = 0;
  };
  const WaitCounts& waits() const { return waits_; }

 private:
  // Targets (KiB, one per guest) applied the way the balancer applies a plan: every shrink at
  // once, then grows within the host's free memory less the reserve and within what the host can
  // back (total - reserve - sum of max(target, actual)); changes under min_step_kib are skipped.
  void apply_desired(Simulation& simulation, const std::vector<std::uint64_t>& desired) const;
  void step_balancer(Simulation& simulation, const std::vector<publish::GuestStats>& published,
                     std::int64_t now);

  Dom0Policy policy_;
  dom0::balance::Settings settings_;  // defaults: the reserve, min and min step for everyone
  dom0::balance::GuestProgress progress_;
  std::optional<std::int64_t> last_plan_;
  WaitCounts waits_;
};

}  // namespace xenballoon::sim::balancer_bench
