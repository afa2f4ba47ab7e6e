#include "xenballoon/dom0/balance.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace xenballoon::dom0::balance {
namespace {

using u64 = std::uint64_t;
using u128 = unsigned __int128;
constexpr u64 kMax = std::numeric_limits<u64>::max();

u64 sat_sub(u64 a, u64 b) {
  return a > b ? a - b : 0;
}
u64 sat_add(u64 a, u64 b) {
  return a > kMax - b ? kMax : a + b;
}

// A non-negative double as KiB, rounded down; NaN and negatives are 0, huge values saturate.
u64 to_kib(long double v) {
  if (!(v > 0)) return 0;
  if (v >= static_cast<long double>(kMax)) return kMax;
  return static_cast<u64>(v);
}

// v as a share of what counts as full pressure, in [0, 1]. A threshold of 0 (or below) makes any
// positive rate full pressure.
double ratio(double v, double full) {
  if (!(v > 0)) return 0;
  if (!(full > 0)) return 1;
  return std::min(1.0, v / full);
}

bool is_held(const GuestInput& g) {
  return g.settings.excluded || g.settings.pinned || g.state != GuestState::kOk;
}

Reason held_reason(const GuestInput& g) {
  if (g.settings.excluded || g.state == GuestState::kExcluded) return Reason::kExcluded;
  if (g.settings.pinned || g.state == GuestState::kPinned) return Reason::kPinned;
  if (g.state == GuestState::kStuck) return Reason::kStuck;
  return Reason::kUncooperative;
}

u64 actual_of(const GuestInput& g) {
  return g.actual_kib.value_or(g.target_kib);
}
u64 holds(const GuestInput& g) {
  return std::max(g.target_kib, actual_of(g));
}

// The most a target moves in one step (before the min_step_kib floor): the rate over the
// elapsed time and the fraction of the current target; 0 for either setting disables it.
u64 step_limit(u64 target, const Settings& s, double elapsed_seconds) {
  long double limit = std::numeric_limits<long double>::infinity();
  if (s.max_rate_kib_per_second > 0) {
    const double seconds = std::isfinite(elapsed_seconds) ? std::max(0.0, elapsed_seconds) : 0.0;
    limit = std::min(limit, static_cast<long double>(s.max_rate_kib_per_second) * seconds);
  }
  if (s.max_step_fraction > 0) {
    limit = std::min(limit, static_cast<long double>(s.max_step_fraction) * target);
  }
  return std::max(to_kib(limit), s.min_step_kib);
}

// One managed guest whose share is computed (has agent stats).
struct Flex {
  std::size_t index;
  u64 min, need, max;
  double weight;
};

// Shares `pool` among `flex`: every guest its min; the needs, scaled above the min when they do
// not fit; the rest by weight, up to each max (water-filling). Returns the shares in flex order.
std::vector<u64> share_out(u64 pool, const std::vector<Flex>& flex) {
  std::vector<u64> share(flex.size());
  u128 sum_min = 0, sum_need = 0;
  for (const Flex& f : flex) {
    sum_min += f.min;
    sum_need += f.need;
  }
  if (sum_min >= pool) {
    for (std::size_t i = 0; i < flex.size(); ++i) share[i] = flex[i].min;
    return share;
  }
  if (sum_need >= pool) {
    // Every guest its min; what remains in proportion to (need - min). Exact in 128 bits;
    // rounding down keeps the sum within the pool.
    const u128 rest = pool - sum_min, above = sum_need - sum_min;
    for (std::size_t i = 0; i < flex.size(); ++i) {
      const u128 part = above == 0 ? 0 : rest * (flex[i].need - flex[i].min) / above;
      share[i] = flex[i].min + static_cast<u64>(part);
    }
    return share;
  }
  for (std::size_t i = 0; i < flex.size(); ++i) share[i] = flex[i].need;
  // Water-filling of the spare memory by weight: in the order of room/weight, a guest whose
  // proportional part would exceed its room gets its room and leaves the rest to the others.
  u64 spare = static_cast<u64>(pool - sum_need);
  double top = 0;
  for (const Flex& f : flex) {
    if (std::isfinite(f.weight) && f.weight > 0) top = std::max(top, f.weight);
  }
  if (top == 0) return share;
  std::vector<std::size_t> order;
  std::vector<double> w(flex.size(), 0);
  for (std::size_t i = 0; i < flex.size(); ++i) {
    const Flex& f = flex[i];
    if (!(std::isfinite(f.weight) && f.weight > 0) || f.max <= f.need) continue;
    w[i] = f.weight / top;  // normalised: the sum stays finite
    order.push_back(i);
  }
  auto room = [&](std::size_t i) { return flex[i].max - flex[i].need; };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    // room(a)/w(a) < room(b)/w(b)
    const long double ra = static_cast<long double>(room(a)) * w[b];
    const long double rb = static_cast<long double>(room(b)) * w[a];
    return ra != rb ? ra < rb : flex[a].index < flex[b].index;
  });
  std::vector<double> suffix(order.size() + 1, 0);
  for (std::size_t k = order.size(); k-- > 0;) suffix[k] = suffix[k + 1] + w[order[k]];
  for (std::size_t k = 0; k < order.size() && spare > 0; ++k) {
    const std::size_t i = order[k];
    const long double fair = static_cast<long double>(spare) * w[i] / suffix[k];
    if (fair >= static_cast<long double>(room(i))) {
      share[i] += room(i);
      spare -= room(i);
      continue;
    }
    // No guest from here on is capped: split proportionally, within what is left.
    const u64 total = spare;
    for (std::size_t j = k; j < order.size(); ++j) {
      const std::size_t g = order[j];
      u64 part = to_kib(static_cast<long double>(total) * w[g] / suffix[k]);
      part = std::min({part, spare, room(g)});
      share[g] += part;
      spare -= part;
    }
    break;
  }
  return share;
}

// Where a grow stands in the queue: into the bounds first, then toward the need (the largest
// gap first), then shares of spare memory (the largest first); domid breaks ties.
struct GrowKey {
  int rank;
  u64 size;
  std::uint32_t domid;
  bool operator<(const GrowKey& o) const {
    if (rank != o.rank) return rank < o.rank;
    if (size != o.size) return size > o.size;
    return domid < o.domid;
  }
};

}  // namespace

std::string_view to_string(GuestState state) {
  switch (state) {
    case GuestState::kOk:
      return "ok";
    case GuestState::kStuck:
      return "stuck";
    case GuestState::kUncooperative:
      return "uncooperative";
    case GuestState::kPinned:
      return "pinned";
    case GuestState::kExcluded:
      return "excluded";
  }
  return "unknown";
}

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::kUnchanged:
      return "unchanged";
    case Reason::kGrowForNeed:
      return "grow_for_need";
    case Reason::kGrowShare:
      return "grow_share";
    case Reason::kShrinkIdle:
      return "shrink_idle";
    case Reason::kShrinkToBounds:
      return "shrink_to_bounds";
    case Reason::kRateLimited:
      return "rate_limited";
    case Reason::kWaitingForFree:
      return "waiting_for_free";
    case Reason::kPinned:
      return "pinned";
    case Reason::kExcluded:
      return "excluded";
    case Reason::kStuck:
      return "stuck";
    case Reason::kUncooperative:
      return "uncooperative";
  }
  return "unknown";
}

bool GuestPlan::changed() const {
  return target_kib != from_kib;
}

GuestBounds guest_bounds(const GuestInput& guest, const Settings& settings) {
  GuestBounds b;
  b.min_kib = guest.settings.min_kib ? guest.settings.min_kib : settings.default_min_kib;
  if (guest.stats.floor_kib) b.min_kib = std::max(b.min_kib, *guest.stats.floor_kib);
  u64 static_max = guest.static_max_kib;
  if (static_max == 0) static_max = guest.stats.static_max_kib.value_or(0);
  if (static_max == 0) static_max = holds(guest);
  b.max_kib = static_max;
  if (guest.settings.max_kib) b.max_kib = std::min(b.max_kib, guest.settings.max_kib);
  b.min_kib = std::min(b.min_kib, b.max_kib);
  return b;
}

double guest_pressure(const PressureRates& rates, const Settings& settings) {
  return std::max({ratio(rates.psi_some_share, settings.psi_full_share),
                   ratio(rates.swapin_pages_per_second, settings.swapin_pages_per_second),
                   ratio(rates.majfault_per_second, settings.majfault_per_second),
                   ratio(rates.refault_pages_per_second, settings.refault_pages_per_second)});
}

namespace {

std::optional<u64> committed_of(const GuestInput& guest) {
  static const std::size_t index = *publish::meminfo_index("Committed_AS");
  return guest.stats.meminfo_kib.known[index];
}

u64 need_within(const GuestInput& guest, const Settings& settings, const GuestBounds& b) {
  const auto committed = committed_of(guest);
  if (!committed) return std::clamp(guest.target_kib, b.min_kib, b.max_kib);
  const u64 base = sat_add(*committed, settings.guest_reserve_kib);
  const double boost =
      std::isfinite(settings.pressure_boost) ? std::max(0.0, settings.pressure_boost) : 0.0;
  const long double raised =
      static_cast<long double>(base) * (1.0L + boost * guest_pressure(guest.rates, settings));
  return std::clamp(to_kib(raised), b.min_kib, b.max_kib);
}

}  // namespace

std::uint64_t guest_need_kib(const GuestInput& guest, const Settings& settings) {
  return need_within(guest, settings, guest_bounds(guest, settings));
}

Plan plan_step(const HostInput& host, const std::vector<GuestInput>& guests,
               const Settings& settings, double elapsed_seconds) {
  Plan plan;
  plan.guests.resize(guests.size());
  const u64 capacity = sat_sub(host.total_kib, settings.host_reserve_kib);

  // Needs and bounds; what held guests hold is not available to the others.
  u64 held = 0;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestInput& g = guests[i];
    GuestPlan& p = plan.guests[i];
    const GuestBounds b = guest_bounds(g, settings);
    p.domid = g.domid;
    p.min_kib = b.min_kib;
    p.max_kib = b.max_kib;
    p.need_kib = need_within(g, settings, b);
    p.from_kib = p.target_kib = p.share_kib = g.target_kib;
    if (is_held(g)) {
      p.reason = held_reason(g);
      held = sat_add(held, holds(g));
      if (g.state == GuestState::kStuck || g.state == GuestState::kUncooperative) {
        plan.unreclaimable_kib =
            sat_add(plan.unreclaimable_kib, sat_sub(actual_of(g), g.target_kib));
      }
    }
  }
  plan.available_kib = sat_sub(capacity, held);

  // Shares. A guest without agent stats keeps its target (within its bounds): a fixed share.
  u64 pool = plan.available_kib;
  std::vector<Flex> flex;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestInput& g = guests[i];
    GuestPlan& p = plan.guests[i];
    if (is_held(g)) continue;
    if (!committed_of(g)) {
      p.share_kib = p.need_kib;
      pool = sat_sub(pool, p.share_kib);
    } else {
      flex.push_back({i, p.min_kib, p.need_kib, p.max_kib, g.settings.weight});
    }
  }
  const std::vector<u64> shares = share_out(pool, flex);
  for (std::size_t k = 0; k < flex.size(); ++k) {
    GuestPlan& p = plan.guests[flex[k].index];
    p.share_kib = shares[k];
    plan.unmet_kib = sat_add(plan.unmet_kib, sat_sub(p.need_kib, p.share_kib));
  }

  // Step limits: each managed target moves toward its share.
  std::vector<bool> out_of_bounds(guests.size(), false);
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestInput& g = guests[i];
    GuestPlan& p = plan.guests[i];
    if (is_held(g)) continue;
    const u64 t = g.target_kib, s = p.share_kib;
    out_of_bounds[i] = t < p.min_kib || t > p.max_kib;
    const u64 diff = s > t ? s - t : t - s;
    if (diff == 0 || (!out_of_bounds[i] && diff < settings.min_step_kib)) {
      p.reason = Reason::kUnchanged;
      continue;
    }
    const u64 step = std::min(diff, step_limit(t, settings, elapsed_seconds));
    u64 to = s > t ? t + step : t - step;
    to = std::clamp(to, p.min_kib, p.max_kib);
    p.target_kib = to;
    if (out_of_bounds[i]) {
      p.reason = Reason::kShrinkToBounds;
    } else if (to != s) {
      p.reason = Reason::kRateLimited;
    } else if (to < t) {
      p.reason = Reason::kShrinkIdle;
    } else {
      p.reason = t < p.need_kib ? Reason::kGrowForNeed : Reason::kGrowShare;
    }
  }

  // Phase one: the shrinks, largest first.
  std::vector<std::size_t> shrinks, grows;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestPlan& p = plan.guests[i];
    if (p.target_kib < p.from_kib) shrinks.push_back(i);
    if (p.target_kib > p.from_kib) grows.push_back(i);
  }
  std::sort(shrinks.begin(), shrinks.end(), [&](std::size_t a, std::size_t b) {
    const GuestPlan &pa = plan.guests[a], &pb = plan.guests[b];
    const u64 da = pa.from_kib - pa.target_kib, db = pb.from_kib - pb.target_kib;
    return da != db ? da > db : pa.domid < pb.domid;
  });
  for (std::size_t i : shrinks) {
    const GuestPlan& p = plan.guests[i];
    plan.actions.push_back({p.domid, p.from_kib, p.target_kib});
  }

  // Phase two: the grows, from memory free now and within what the host can back once every
  // guest holds max(target, actual) (the shrinks above do not count until the guests give back).
  u64 backed = 0;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestPlan& p = plan.guests[i];
    backed = sat_add(backed, std::max(std::min(p.target_kib, p.from_kib), actual_of(guests[i])));
  }
  u64 headroom = sat_sub(capacity, backed);
  u64 free_budget = sat_sub(host.free_kib, settings.host_reserve_kib);
  auto key_of = [&](std::size_t i) {
    const GuestPlan& p = plan.guests[i];
    if (out_of_bounds[i]) return GrowKey{0, p.min_kib - p.from_kib, p.domid};
    if (p.from_kib < p.need_kib) return GrowKey{1, p.need_kib - p.from_kib, p.domid};
    return GrowKey{2, p.target_kib - p.from_kib, p.domid};
  };
  std::sort(grows.begin(), grows.end(),
            [&](std::size_t a, std::size_t b) { return key_of(a) < key_of(b); });
  for (std::size_t i : grows) {
    GuestPlan& p = plan.guests[i];
    const u64 t = p.from_kib, a = actual_of(guests[i]);
    const u64 want = p.target_kib - t;
    // Growing to x costs max(x, a) - max(t, a) of the headroom.
    const u64 by_headroom = sat_add(std::max(t, a) - t, headroom);
    u64 grow = std::min({want, free_budget, by_headroom});
    if (grow < want) {
      p.reason = Reason::kWaitingForFree;
      if (grow < settings.min_step_kib && !out_of_bounds[i]) grow = 0;
      p.target_kib = t + grow;
      if (grow == 0) continue;
    }
    free_budget -= grow;
    headroom -= std::max(t + grow, a) - std::max(t, a);
    plan.actions.push_back({p.domid, t, p.target_kib});
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// GuestProgress

struct GuestProgress::Track {
  std::string uuid;
  // The last distinct publication: when it was seen and its clocks and counters.
  bool published = false;
  double seen = 0;
  std::optional<double> uptime, heartbeat;
  std::optional<u64> psi_us, swapin, majfault, refault;
  PressureRates rates;
  // Progress toward the target.
  bool moving = false;  // away from its target by more than the tolerance
  int direction = 0;    // +1: to grow, -1: to shrink
  double mark = 0;      // when it last came closer by more than the tolerance (or started)
  u64 mark_actual = 0;  // what it held then
  bool stuck = false;
  double stuck_since = 0;
  bool followed = false;  // has come closer to a target at least once
};

namespace {

struct Publication {
  std::optional<double> uptime, heartbeat;
  std::optional<u64> psi_us, swapin, majfault, refault;
};

Publication publication_of(const publish::GuestStats& stats) {
  Publication p;
  p.uptime = stats.uptime_seconds;
  if (stats.heartbeat_unix_seconds)
    p.heartbeat = static_cast<double>(*stats.heartbeat_unix_seconds);
  if (stats.psi_some) p.psi_us = stats.psi_some->total_us;
  p.swapin = stats.vmstat_value("pswpin");
  p.majfault = stats.vmstat_value("pgmajfault");
  p.refault = stats.vmstat_value("workingset_refault_file");
  return p;
}

bool went_back(const std::optional<u64>& before, const std::optional<u64>& after) {
  return before && after && *after < *before;
}

double per_second(const std::optional<u64>& before, const std::optional<u64>& after,
                  double seconds) {
  if (!before || !after || *after < *before) return 0;
  return static_cast<double>(*after - *before) / seconds;
}

}  // namespace

GuestProgress::Observation GuestProgress::observe(std::uint32_t domid, std::string_view uuid,
                                                  std::uint64_t target_kib,
                                                  std::optional<std::uint64_t> actual_kib,
                                                  const publish::GuestStats& stats, double now) {
  auto it = std::find_if(tracks_.begin(), tracks_.end(),
                         [&](const auto& entry) { return entry.first == domid; });
  if (it == tracks_.end()) {
    tracks_.emplace_back(domid, std::make_shared<Track>());
    it = std::prev(tracks_.end());
    it->second->uuid = std::string(uuid);
  } else if (it->second->uuid != uuid) {
    it->second = std::make_shared<Track>();  // a new domain with a reused id
    it->second->uuid = std::string(uuid);
  }
  Track& t = *it->second;

  // Rates between the last two distinct publications, timed by the guest's uptime (else its
  // heartbeat, else when they were seen). Anything going back is a reboot: rates 0.
  const Publication pub = publication_of(stats);
  // Without a clock of its own, a publication cannot be told from a repeat of the last one.
  const bool clock = pub.uptime || pub.heartbeat;
  const bool same = t.published && clock && pub.uptime == t.uptime &&
                    pub.heartbeat == t.heartbeat && pub.psi_us == t.psi_us &&
                    pub.swapin == t.swapin && pub.majfault == t.majfault &&
                    pub.refault == t.refault;
  if (!t.published) {
    t.rates = {};
  } else if (!same) {
    double seconds = 0;
    bool reboot = (t.uptime && pub.uptime && *pub.uptime < *t.uptime) ||
                  went_back(t.psi_us, pub.psi_us) || went_back(t.swapin, pub.swapin) ||
                  went_back(t.majfault, pub.majfault) || went_back(t.refault, pub.refault);
    if (t.uptime && pub.uptime) seconds = *pub.uptime - *t.uptime;
    if (!(seconds > 0) && t.heartbeat && pub.heartbeat) seconds = *pub.heartbeat - *t.heartbeat;
    if (!(seconds > 0)) seconds = now - t.seen;
    t.rates = {};
    if (!reboot && seconds > 0 && std::isfinite(seconds)) {
      if (t.psi_us && pub.psi_us) {
        const double share = static_cast<double>(*pub.psi_us - *t.psi_us) / (seconds * 1e6);
        t.rates.psi_some_share = std::clamp(share, 0.0, 1.0);
      }
      t.rates.swapin_pages_per_second = per_second(t.swapin, pub.swapin, seconds);
      t.rates.majfault_per_second = per_second(t.majfault, pub.majfault, seconds);
      t.rates.refault_pages_per_second = per_second(t.refault, pub.refault, seconds);
    }
  }
  if (!same) {
    t.published = true;
    t.seen = now;
    t.uptime = pub.uptime;
    t.heartbeat = pub.heartbeat;
    t.psi_us = pub.psi_us;
    t.swapin = pub.swapin;
    t.majfault = pub.majfault;
    t.refault = pub.refault;
  }
  Observation out;
  out.rates = t.rates;

  // Progress toward the target: the clock starts when it is away from its target (a target
  // change, or the first look); moves toward it by more than the tolerance restart the clock.
  const std::optional<u64> actual = actual_kib ? actual_kib : stats.current_kib;
  if (!actual) {
    // Nothing says what it holds: it cannot be seen to follow a target.
    t.moving = t.stuck = false;
    out.state = GuestState::kUncooperative;
    return out;
  }
  // A selfballooning guest's target is a ceiling: below it is where it should be.
  const bool ceiling = stats.mode == "selfballoon";
  const u64 a = *actual;
  const u64 distance = a > target_kib ? a - target_kib : (ceiling ? 0 : target_kib - a);
  const int direction = a > target_kib ? -1 : 1;
  if (distance <= options_.tolerance_kib) {
    const u64 moved = a > t.mark_actual ? a - t.mark_actual : t.mark_actual - a;
    if (t.moving && moved > options_.tolerance_kib) t.followed = true;
    t.moving = t.stuck = false;
  } else if (!t.moving || direction != t.direction) {
    t.moving = true;
    t.direction = direction;
    t.stuck = false;
    t.mark = now;
    t.mark_actual = a;
  } else if ((direction > 0 ? sat_sub(a, t.mark_actual) : sat_sub(t.mark_actual, a)) >
             options_.tolerance_kib) {
    t.followed = true;
    t.stuck = false;
    t.mark = now;
    t.mark_actual = a;
  } else if (t.stuck) {
    if (now - t.stuck_since >= options_.retry_after_seconds) {
      t.stuck = false;  // counted on again; stuck again after stuck_after_seconds
      t.mark = now;
      t.mark_actual = a;
    }
  } else if (now - t.mark >= options_.stuck_after_seconds) {
    t.stuck = true;
    t.stuck_since = now;
  }
  if (t.stuck) {
    // A guest without an agent that never followed a target has no balloon driver answering.
    const bool agent = stats.has_published_values();
    out.state = !agent && !t.followed ? GuestState::kUncooperative : GuestState::kStuck;
  }
  return out;
}

void GuestProgress::retain(const std::vector<std::uint32_t>& present) {
  std::erase_if(tracks_, [&](const auto& entry) {
    return std::find(present.begin(), present.end(), entry.first) == present.end();
  });
}

}  // namespace xenballoon::dom0::balance
