#include "dom0_policies.h"

#include <algorithm>
#include <string>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/publish/layout.h"
#include "xenballoon/sim/psi.h"

namespace xenballoon::sim::balancer_bench {
namespace {

namespace balance = dom0::balance;
using u64 = std::uint64_t;

u64 sat_sub(u64 a, u64 b) {
  return a > b ? a - b : 0;
}

void set_meminfo(publish::GuestStats& s, std::string_view field, u64 kib) {
  if (auto i = publish::meminfo_index(field)) s.meminfo_kib.known[*i] = kib;
}

// The guest as the balancer daemon builds it from xenstore: dom0's own keys from the model, the
// rest from the last publication; the daemon's default settings for every guest.
balance::GuestInput input_of(const GuestModel& guest, std::size_t index,
                             const publish::GuestStats& published) {
  balance::GuestInput in;
  in.domid = static_cast<std::uint32_t>(index + 1);
  in.name = guest.spec().name;
  in.uuid = "00000000-0000-4000-8000-" + std::to_string(100000000000 + index);
  in.stats = published;
  in.stats.dom0_target_kib = guest.dom0_target_kib();
  in.stats.static_max_kib = guest.static_max_kib();
  in.target_kib = guest.dom0_target_kib();
  in.static_max_kib = guest.static_max_kib();
  in.actual_kib = published.current_kib;
  return in;
}

}  // namespace

std::string_view policy_name(Dom0Policy policy) {
  switch (policy) {
    case Dom0Policy::kStatic:
      return "static";
    case Dom0Policy::kSelfballoon:
      return "selfballoon";
    case Dom0Policy::kSqueezed:
      return "squeezed";
    case Dom0Policy::kQmemman:
      return "qmemman";
    case Dom0Policy::kBalancer:
      return "balancer";
    case Dom0Policy::kBalancerSelf:
      return "balancer-self";
  }
  return "unknown";
}

GuestMode guest_mode(Dom0Policy policy) {
  switch (policy) {
    case Dom0Policy::kStatic:
      return GuestMode::kNone;
    case Dom0Policy::kSelfballoon:
    case Dom0Policy::kBalancerSelf:
      return GuestMode::kSelfballoon;
    case Dom0Policy::kSqueezed:
    case Dom0Policy::kQmemman:
    case Dom0Policy::kBalancer:
      return GuestMode::kDirected;
  }
  return GuestMode::kNone;
}

publish::GuestStats published_stats(const GuestModel& guest, std::uint64_t floor_kib,
                                    GuestMode mode) {
  const GuestSnapshot snap = guest.snapshot();
  publish::GuestStats s;
  s.layout = publish::kLayoutVersion;
  s.agent = std::string(publish::kAgentName) + "bench";
  const bool self = mode == GuestMode::kSelfballoon;
  s.mode = self ? "selfballoon" : "directed";
  s.policy = self ? "pressure" : "none";
  s.selfballoon = self;
  s.target_kib = snap.balloon_target_kib;
  if (floor_kib != 0) s.floor_kib = floor_kib;
  s.current_kib = snap.balloon_current_kib;
  set_meminfo(s, "MemTotal", snap.mem_total_kib);
  set_meminfo(s, "MemFree", snap.mem_free_kib);
  set_meminfo(s, "MemAvailable", snap.mem_available_kib);
  set_meminfo(s, "Buffers", 0);
  set_meminfo(s, "Cached", snap.cached_kib);
  set_meminfo(s, "SwapTotal", snap.swap_total_kib);
  set_meminfo(s, "SwapFree", snap.swap_free_kib);
  set_meminfo(s, "AnonPages", snap.anon_pages_kib);
  set_meminfo(s, "Shmem", snap.shmem_kib);
  set_meminfo(s, "CommitLimit", snap.commit_limit_kib);
  set_meminfo(s, "Committed_AS", snap.committed_as_kib);
  // The agent's default vmstat_fields.
  const VmstatCounters& v = snap.vmstat;
  const std::pair<std::string_view, u64> counters[] = {
      {"pswpin", v.pswpin},    {"pswpout", v.pswpout}, {"pgpgin", v.pgpgin},
      {"pgpgout", v.pgpgout},  {"pgfault", v.pgfault}, {"pgmajfault", v.pgmajfault},
      {"oom_kill", v.oom_kill}};
  for (const auto& [name, value] : counters) {
    if (auto i = publish::vmstat_index(name)) s.vmstat.known[*i] = value;
  }
  s.uptime_seconds = static_cast<double>(snap.uptime_seconds);
  s.idle_seconds = 0;
  s.psi_some = publish::Psi{
      psi_average_percent(snap.psi_some.avg10), psi_average_percent(snap.psi_some.avg60),
      psi_average_percent(snap.psi_some.avg300), snap.psi_some.total_ns / 1000};
  s.psi_full = publish::Psi{
      psi_average_percent(snap.psi_full.avg10), psi_average_percent(snap.psi_full.avg60),
      psi_average_percent(snap.psi_full.avg300), snap.psi_full.total_ns / 1000};
  s.static_max_kib = guest.static_max_kib();
  s.dom0_target_kib = guest.dom0_target_kib();
  return s;
}

void Dom0Controller::step(Simulation& simulation, const std::vector<publish::GuestStats>& published,
                          std::int64_t now) {
  std::vector<GuestModel>& guests = simulation.guests();
  const u64 total_kib = kib_from_pages(simulation.host().total_pages());
  const u64 available = sat_sub(total_kib, settings_.host_reserve_kib);
  std::vector<balance::GuestBounds> bounds;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    bounds.push_back(balance::guest_bounds(input_of(guests[i], i, published[i]), settings_));
  }
  switch (policy_) {
    case Dom0Policy::kStatic:
    case Dom0Policy::kSelfballoon:
      return;  // the boot targets stay
    case Dom0Policy::kSqueezed: {
      // Every guest its dynamic-min, the rest shared in proportion to (dynamic-max -
      // dynamic-min): one fraction for all. Dynamic-min: the guest's min (the balloon floor, at
      // least default_min_kib); dynamic-max: static-max. Blind to what the guests use.
      u64 sum_min = 0, sum_range = 0;
      for (const auto& b : bounds) {
        sum_min += b.min_kib;
        sum_range += b.max_kib - b.min_kib;
      }
      const double fraction = sum_range == 0 || available <= sum_min
                                  ? 0.0
                                  : std::min(1.0, static_cast<double>(available - sum_min) /
                                                      static_cast<double>(sum_range));
      std::vector<u64> desired;
      for (const auto& b : bounds) {
        desired.push_back(b.min_kib +
                          static_cast<u64>(fraction * static_cast<double>(b.max_kib - b.min_kib)));
      }
      apply_desired(simulation, desired);
      return;
    }
    case Dom0Policy::kQmemman: {
      // Preferred size: used x 1.3, used = MemTotal - MemFree - Cached - Buffers + swap in use.
      // Enough memory: the rest shared in proportion to the preferred sizes (capped at the max);
      // short: every preferred size scaled by available / sum of them.
      std::vector<double> pref;
      double sum_pref = 0;
      for (std::size_t i = 0; i < guests.size(); ++i) {
        const publish::GuestStats& s = published[i];
        const u64 mem_total = s.meminfo("MemTotal").value_or(0);
        const u64 not_used = s.meminfo("MemFree").value_or(0) + s.meminfo("Cached").value_or(0) +
                             s.meminfo("Buffers").value_or(0);
        const u64 swap_used =
            sat_sub(s.meminfo("SwapTotal").value_or(0), s.meminfo("SwapFree").value_or(0));
        const double used = static_cast<double>(sat_sub(mem_total, not_used) + swap_used);
        const double p =
            std::clamp(used * kQmemmanCacheFactor,
                       static_cast<double>(std::max(kQmemmanMinPrefKib, bounds[i].min_kib)),
                       static_cast<double>(bounds[i].max_kib));
        pref.push_back(p);
        sum_pref += p;
      }
      std::vector<u64> desired;
      const double scale = sum_pref == 0 ? 1.0 : static_cast<double>(available) / sum_pref;
      for (std::size_t i = 0; i < guests.size(); ++i) {
        desired.push_back(
            std::clamp(static_cast<u64>(pref[i] * scale), bounds[i].min_kib, bounds[i].max_kib));
      }
      apply_desired(simulation, desired);
      return;
    }
    case Dom0Policy::kBalancer:
    case Dom0Policy::kBalancerSelf:
      step_balancer(simulation, published, now);
      return;
  }
}

void Dom0Controller::apply_desired(Simulation& simulation,
                                   const std::vector<std::uint64_t>& desired) const {
  std::vector<GuestModel>& guests = simulation.guests();
  const u64 total_kib = kib_from_pages(simulation.host().total_pages());
  const u64 reserve = settings_.host_reserve_kib;
  // Shrinks first.
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const u64 t = guests[i].dom0_target_kib();
    if (desired[i] < t && t - desired[i] >= settings_.min_step_kib) {
      guests[i].set_dom0_target_kib(desired[i]);
    }
  }
  u64 backed = 0;
  for (const GuestModel& g : guests) backed += std::max(g.dom0_target_kib(), g.current_kib());
  u64 headroom = sat_sub(sat_sub(total_kib, reserve), backed);
  u64 free_budget = sat_sub(kib_from_pages(simulation.host().free_pages()), reserve);
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const u64 t = guests[i].dom0_target_kib();
    if (desired[i] <= t || desired[i] - t < settings_.min_step_kib) continue;
    const u64 held = std::max(t, guests[i].current_kib());
    const u64 grow = std::min({desired[i] - t, free_budget, headroom + (held - t)});
    if (grow < settings_.min_step_kib) continue;
    guests[i].set_dom0_target_kib(t + grow);
    free_budget -= grow;
    headroom = sat_sub(headroom, sat_sub(t + grow, held));
  }
}

void Dom0Controller::step_balancer(Simulation& simulation,
                                   const std::vector<publish::GuestStats>& published,
                                   std::int64_t now) {
  std::vector<GuestModel>& guests = simulation.guests();
  std::vector<balance::GuestInput> inputs;
  std::vector<std::uint32_t> present;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    balance::GuestInput in = input_of(guests[i], i, published[i]);
    const auto observed = progress_.observe(in.domid, in.uuid, in.target_kib, in.actual_kib,
                                            in.stats, static_cast<double>(now));
    in.rates = observed.rates;
    in.state = observed.state;
    present.push_back(in.domid);
    inputs.push_back(std::move(in));
  }
  progress_.retain(present);
  const balance::HostInput host{kib_from_pages(simulation.host().total_pages()),
                                kib_from_pages(simulation.host().free_pages())};
  const double elapsed = last_plan_ ? static_cast<double>(now - *last_plan_)
                                    : static_cast<double>(kDom0IntervalSeconds);
  last_plan_ = now;
  const balance::Plan plan = balance::plan_step(host, inputs, settings_, elapsed);
  for (std::size_t i = 0; i < plan.guests.size() && i < inputs.size(); ++i) {
    const balance::GuestPlan& p = plan.guests[i];
    if (p.reason != balance::Reason::kWaitingForFree) continue;
    ++waits_.waiting;
    if (host.free_kib > settings_.host_reserve_kib + settings_.min_step_kib) ++waits_.with_free;
    if (p.need_kib > inputs[i].actual_kib.value_or(inputs[i].target_kib)) ++waits_.needy;
  }
  for (const balance::Action& action : plan.actions) {
    if (action.domid == 0 || action.domid > guests.size() || action.to_kib == action.from_kib) {
      continue;
    }
    guests[action.domid - 1].set_dom0_target_kib(action.to_kib);
  }
}

}  // namespace xenballoon::sim::balancer_bench
