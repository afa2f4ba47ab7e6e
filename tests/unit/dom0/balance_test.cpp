// dom0/balance.h: needs, bounds, weighted shares, step limits, the two phases, conservation, and
// GuestProgress; then the invariants over many random hosts.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "xenballoon/dom0/balance.h"
#include "xenballoon/publish/guest_stats.h"

using namespace xenballoon;
using namespace xenballoon::dom0::balance;

namespace {

using u64 = std::uint64_t;
constexpr u64 kMiB = 1024;
constexpr u64 kGiB = 1024 * 1024;

const std::size_t kCommitted = *publish::meminfo_index("Committed_AS");

void set_committed(GuestInput& g, u64 kib) {
  g.stats.meminfo_kib.known[kCommitted] = kib;
}
bool has_agent_stats(const GuestInput& g) {
  return g.stats.meminfo_kib.known[kCommitted].has_value();
}

// A guest running the agent (directed), at its target.
GuestInput agent_guest(std::uint32_t domid, u64 target, u64 committed, u64 static_max = 16 * kGiB) {
  GuestInput g;
  g.domid = domid;
  g.uuid = "uuid-" + std::to_string(domid);
  g.name = "guest" + std::to_string(domid);
  g.target_kib = target;
  g.actual_kib = target;
  g.static_max_kib = static_max;
  g.stats.agent = "xenballoond 0.1.0";
  g.stats.mode = "directed";
  set_committed(g, committed);
  return g;
}

// A guest without an agent (nothing published).
GuestInput bare_guest(std::uint32_t domid, u64 target, u64 static_max = 16 * kGiB) {
  GuestInput g;
  g.domid = domid;
  g.uuid = "uuid-" + std::to_string(domid);
  g.target_kib = target;
  g.actual_kib = target;
  g.static_max_kib = static_max;
  return g;
}

// No rate or fraction limit: targets go to their shares in one step.
Settings unlimited() {
  Settings s;
  s.max_rate_kib_per_second = 0;
  s.max_step_fraction = 0;
  return s;
}

// A host whose guests may hold `capacity` in all (the reserve on top), with `free` not given to
// any domain (default: what the guests do not hold).
HostInput host_for(u64 capacity, const std::vector<GuestInput>& guests, const Settings& s,
                   std::optional<u64> free = std::nullopt) {
  HostInput h;
  h.total_kib = capacity + s.host_reserve_kib;
  u64 held = 0;
  for (const auto& g : guests) held += g.actual_kib.value_or(g.target_kib);
  h.free_kib = free ? *free : h.total_kib - std::min(held, h.total_kib);
  return h;
}

u64 holds(const GuestInput& g, u64 target) {
  return std::max(target, g.actual_kib.value_or(g.target_kib));
}

bool is_held(const GuestInput& g) {
  return g.settings.excluded || g.settings.pinned || g.state != GuestState::kOk;
}

u64 sat_sub(u64 a, u64 b) {
  return a > b ? a - b : 0;
}

// Applies a plan's targets (what the daemon would write) to the guests.
std::vector<GuestInput> applied(std::vector<GuestInput> guests, const Plan& plan) {
  for (std::size_t i = 0; i < guests.size(); ++i) guests[i].target_kib = plan.guests[i].target_kib;
  return guests;
}

// Every invariant of one step; the first one broken, or "" when all hold.
std::string check_plan(const HostInput& host, const std::vector<GuestInput>& guests,
                       const Settings& s, double elapsed, const Plan& plan) {
  const u64 capacity = sat_sub(host.total_kib, s.host_reserve_kib);
  if (plan.guests.size() != guests.size()) return "plan.guests is not in the input's order";
  u64 held = 0, unreclaimable = 0;
  for (const auto& g : guests) {
    if (!is_held(g)) continue;
    held += holds(g, g.target_kib);
    if (g.state == GuestState::kStuck || g.state == GuestState::kUncooperative) {
      unreclaimable += sat_sub(g.actual_kib.value_or(g.target_kib), g.target_kib);
    }
  }
  if (plan.available_kib != sat_sub(capacity, held)) return "available_kib";
  if (plan.unreclaimable_kib != unreclaimable) return "unreclaimable_kib";

  u64 before = 0, after = 0, unmet = 0, fixed = 0, grown = 0;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestInput& g = guests[i];
    const GuestPlan& p = plan.guests[i];
    auto fail = [&](const char* what) {
      std::ostringstream err;
      err << "guest " << i << " (domid " << g.domid << ", target " << g.target_kib << ", actual "
          << g.actual_kib.value_or(g.target_kib) << ", share " << p.share_kib << ", new "
          << p.target_kib << ", min " << p.min_kib << ", max " << p.max_kib << ", need "
          << p.need_kib << ", reason " << to_string(p.reason) << "): " << what;
      return err.str();
    };
    before += holds(g, g.target_kib);
    after += holds(g, p.target_kib);
    if (p.domid != g.domid || p.from_kib != g.target_kib) return fail("domid or from_kib");
    if (p.changed() != (p.target_kib != g.target_kib)) return fail("changed()");
    const GuestBounds b = guest_bounds(g, s);
    if (p.min_kib != b.min_kib || p.max_kib != b.max_kib) return fail("bounds");
    if (p.min_kib > p.max_kib) return fail("min above max");
    if (p.need_kib != guest_need_kib(g, s)) return fail("need");
    if (p.need_kib < p.min_kib || p.need_kib > p.max_kib) return fail("need out of bounds");
    if (is_held(g)) {
      if (p.target_kib != g.target_kib) return fail("a held guest's target moved");
      const Reason want = g.settings.excluded || g.state == GuestState::kExcluded
                              ? Reason::kExcluded
                          : g.settings.pinned || g.state == GuestState::kPinned ? Reason::kPinned
                          : g.state == GuestState::kStuck                       ? Reason::kStuck
                                                          : Reason::kUncooperative;
      if (p.reason != want) return fail("a held guest's reason");
      continue;
    }
    if (!has_agent_stats(g)) {
      if (p.share_kib != std::clamp(g.target_kib, p.min_kib, p.max_kib)) {
        return fail("a guest without an agent does not keep its target");
      }
      fixed += p.share_kib;
    }
    unmet += sat_sub(p.need_kib, p.share_kib);
    if (p.share_kib < p.min_kib || p.share_kib > p.max_kib) return fail("share bounds");
    const u64 t = g.target_kib, n = p.target_kib;
    const bool oob = t < p.min_kib || t > p.max_kib;
    // Bounds, except a guest below its min waiting for free memory.
    if (n < p.min_kib || n > p.max_kib) {
      if (!(p.reason == Reason::kWaitingForFree && t <= n && n < p.min_kib)) {
        return fail("target out of bounds");
      }
    }
    // Toward the share, never past it.
    if (!(std::min(t, p.share_kib) <= n && n <= std::max(t, p.share_kib))) {
      return fail("not between the old target and the share");
    }
    const u64 moved = n > t ? n - t : t - n;
    if (n != t && !oob && moved < s.min_step_kib) return fail("a step below min_step_kib");
    long double limit = std::numeric_limits<long double>::infinity();
    if (s.max_rate_kib_per_second > 0) {
      limit = std::min(limit, static_cast<long double>(s.max_rate_kib_per_second) *
                                  (std::isfinite(elapsed) ? std::max(0.0, elapsed) : 0.0));
    }
    if (s.max_step_fraction > 0) {
      limit = std::min(limit, static_cast<long double>(s.max_step_fraction) * t);
    }
    limit = std::max(limit, static_cast<long double>(s.min_step_kib));
    if (oob) {
      const u64 to_bounds = t < p.min_kib ? p.min_kib - t : t - p.max_kib;
      limit = std::max(limit, static_cast<long double>(to_bounds));
    }
    if (static_cast<long double>(moved) > limit + 1) return fail("step limit");
    switch (p.reason) {
      case Reason::kUnchanged:
        if (n != t) return fail("unchanged but moved");
        if (!oob && moved == 0 &&
            (p.share_kib > t ? p.share_kib - t : t - p.share_kib) >=
                std::max<u64>(s.min_step_kib, 1)) {
          return fail("unchanged though its share is a step away");
        }
        break;
      case Reason::kWaitingForFree:
        if (p.share_kib <= t) return fail("waiting for free memory without a grow");
        break;
      case Reason::kShrinkIdle:
        if (!(n < t) || n != p.share_kib) return fail("shrink_idle");
        break;
      case Reason::kGrowForNeed:
      case Reason::kGrowShare:
        if (!(n > t) || n != p.share_kib) return fail("grow");
        break;
      case Reason::kShrinkToBounds:
        if (!oob) return fail("shrink_to_bounds without being out of bounds");
        break;
      case Reason::kRateLimited:
        if (n == p.share_kib) return fail("rate_limited");
        break;
      default:
        return fail("a managed guest with a held reason");
    }
    if (n > t) grown += n - t;
  }
  if (plan.unmet_kib != unmet) return "unmet_kib";
  if (before <= capacity && after > capacity) return "conservation";
  if (grown > sat_sub(host.free_kib, s.host_reserve_kib)) return "grows exceed free memory";

  // Actions: the changed guests, shrinks (largest first) before grows.
  std::size_t changed = 0;
  for (const auto& p : plan.guests) changed += p.changed();
  if (plan.actions.size() != changed) return "actions are not the changed guests";
  bool growing = false;
  u64 last_shrink = std::numeric_limits<u64>::max();
  for (const Action& a : plan.actions) {
    auto it = std::find_if(plan.guests.begin(), plan.guests.end(),
                           [&](const GuestPlan& p) { return p.domid == a.domid; });
    if (it == plan.guests.end() || it->from_kib != a.from_kib || it->target_kib != a.to_kib) {
      return "an action differs from its guest's plan";
    }
    if (a.to_kib < a.from_kib) {
      if (growing) return "a shrink after a grow";
      if (a.from_kib - a.to_kib > last_shrink) return "shrinks not largest first";
      last_shrink = a.from_kib - a.to_kib;
    } else {
      growing = true;
    }
  }

  // The shares: mins, scaled needs, or needs plus spare by weight (water-filling).
  const u64 pool = sat_sub(plan.available_kib, fixed);
  u64 sum_min = 0, sum_need = 0, sum_share = 0, n_flex = 0;
  std::vector<std::size_t> flex;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    if (is_held(guests[i]) || !has_agent_stats(guests[i])) continue;
    flex.push_back(i);
    sum_min += plan.guests[i].min_kib;
    sum_need += plan.guests[i].need_kib;
    sum_share += plan.guests[i].share_kib;
  }
  n_flex = flex.size();
  if (sum_min >= pool) {
    for (std::size_t i : flex) {
      if (plan.guests[i].share_kib != plan.guests[i].min_kib) return "short of mins: share != min";
    }
    return "";
  }
  if (sum_share > pool) return "the shares exceed the pool";
  if (sum_need >= pool) {
    if (pool - sum_share > n_flex) return "short of needs: the pool is not shared out";
    for (std::size_t i : flex) {
      if (plan.guests[i].share_kib > plan.guests[i].need_kib) return "short of needs: above need";
    }
    return "";
  }
  bool room_left = false;
  for (std::size_t i : flex) {
    const GuestPlan& p = plan.guests[i];
    const double w = guests[i].settings.weight;
    if (p.share_kib < p.need_kib) return "spare: below need";
    if (!(w > 0) && p.share_kib != p.need_kib) return "spare: a weightless guest got spare memory";
    if (w > 0 && p.share_kib + n_flex < p.max_kib) room_left = true;
  }
  if (room_left && pool - sum_share > n_flex + 1) return "spare: memory left over with room left";
  for (std::size_t i : flex) {
    const GuestPlan& pi = plan.guests[i];
    const double wi = guests[i].settings.weight;
    if (!(wi > 0)) continue;
    for (std::size_t j : flex) {
      const GuestPlan& pj = plan.guests[j];
      const double wj = guests[j].settings.weight;
      if (i == j || !(wj > 0) || pj.share_kib >= pj.max_kib) continue;
      // j is not capped: i's extra per weight is at most j's (equal when neither is capped).
      const long double ei = static_cast<long double>(pi.share_kib - pi.need_kib) * wj;
      const long double ej = static_cast<long double>(pj.share_kib - pj.need_kib) * wi;
      const long double tol = 2 * (wi + wj) + 1e-9L * (ei + ej);
      if (ei > ej + tol) return "spare: not in proportion to weight";
    }
  }
  return "";
}

// Checks one step and returns its plan.
Plan step(const HostInput& host, const std::vector<GuestInput>& guests, const Settings& s,
          double elapsed = 5) {
  Plan plan = plan_step(host, guests, s, elapsed);
  const std::string broken = check_plan(host, guests, s, elapsed, plan);
  INFO(broken);
  CHECK(broken.empty());
  return plan;
}

}  // namespace

TEST_CASE("conservation: what the guests may hold never exceeds what the host can back") {
  const Settings s = unlimited();
  // A holds 4 GiB and needs about 1 GiB. B holds 3 GiB and needs about 3.5 GiB.
  std::vector<GuestInput> guests = {agent_guest(1, 4 * kGiB, 1 * kGiB),
                                    agent_guest(2, 3 * kGiB, 3584 * kMiB)};
  HostInput host = host_for(8 * kGiB, guests, s);
  Plan plan = step(host, guests, s);
  // Needs 1088 and 3648 MiB, 3456 MiB spare split 1:1.
  CHECK(plan.guests[0].need_kib == 1088 * kMiB);
  CHECK(plan.guests[1].need_kib == 3648 * kMiB);
  CHECK(plan.guests[0].share_kib == 2816 * kMiB);
  CHECK(plan.guests[1].share_kib == 5376 * kMiB);
  CHECK(plan.available_kib == 8 * kGiB);
  CHECK(plan.unmet_kib == 0);
  // A shrinks at once; B may only grow into the 1 GiB free now (A still holds 4 GiB).
  CHECK(plan.guests[0].target_kib == 2816 * kMiB);
  CHECK(plan.guests[0].reason == Reason::kShrinkIdle);
  CHECK(plan.guests[1].target_kib == 4 * kGiB);
  CHECK(plan.guests[1].reason == Reason::kWaitingForFree);
  u64 sum = 0;
  for (std::size_t i = 0; i < guests.size(); ++i)
    sum += holds(guests[i], plan.guests[i].target_kib);
  CHECK(sum == 8 * kGiB);

  // Once A has given its memory back, B gets the rest.
  guests = applied(guests, plan);
  for (auto& g : guests) g.actual_kib = g.target_kib;
  host = host_for(8 * kGiB, guests, s);
  plan = step(host, guests, s);
  CHECK(plan.guests[0].target_kib == 2816 * kMiB);
  CHECK(plan.guests[0].reason == Reason::kUnchanged);
  CHECK(plan.guests[1].target_kib == 5376 * kMiB);
  CHECK(plan.guests[1].reason == Reason::kGrowShare);  // its need is met: spare memory now

  // A host already overcommitted (what the guests hold is above total - reserve) grows nobody.
  guests = {agent_guest(1, 4 * kGiB, 3 * kGiB), agent_guest(2, 1 * kGiB, 3 * kGiB)};
  guests[0].actual_kib = 5 * kGiB;
  host = host_for(5 * kGiB, guests, s, 2 * kGiB);
  plan = step(host, guests, s);
  CHECK(plan.guests[1].target_kib == 1 * kGiB);
  CHECK(plan.guests[1].reason == Reason::kWaitingForFree);
}

TEST_CASE("bounds: the configured min and max, static-max and the agent's floor") {
  Settings s = unlimited();
  GuestInput g = agent_guest(1, 2 * kGiB, 100 * kMiB, 4 * kGiB);
  CHECK(guest_bounds(g, s) == GuestBounds{128 * kMiB, 4 * kGiB});  // default min, static-max
  CHECK(guest_need_kib(g, s) == 164 * kMiB);
  g.settings.min_kib = 1 * kGiB;
  CHECK(guest_bounds(g, s).min_kib == 1 * kGiB);
  CHECK(guest_need_kib(g, s) == 1 * kGiB);
  g.stats.floor_kib = 1536 * kMiB;  // the agent's floor above the configured min
  CHECK(guest_bounds(g, s).min_kib == 1536 * kMiB);
  g.settings.max_kib = 3 * kGiB;
  CHECK(guest_bounds(g, s).max_kib == 3 * kGiB);
  g.settings.max_kib = 6 * kGiB;  // static-max is the harder limit
  CHECK(guest_bounds(g, s).max_kib == 4 * kGiB);
  set_committed(g, 10 * kGiB);
  CHECK(guest_need_kib(g, s) == 4 * kGiB);
  g.settings.min_kib = 5 * kGiB;  // a min above the max is lowered to it
  CHECK(guest_bounds(g, s) == GuestBounds{4 * kGiB, 4 * kGiB});
  // static-max from the stats, else what the guest has.
  g.static_max_kib = 0;
  g.stats.static_max_kib = 3 * kGiB;
  CHECK(guest_bounds(g, s).max_kib == 3 * kGiB);
  g.stats.static_max_kib.reset();
  g.actual_kib = 2500 * kMiB;
  CHECK(guest_bounds(g, s).max_kib == 2500 * kMiB);

  // Out of bounds: into them at once, whatever the step limits.
  s.max_rate_kib_per_second = 1 * kMiB;
  s.max_step_fraction = 0.01;
  std::vector<GuestInput> guests = {agent_guest(1, 5 * kGiB, 1 * kGiB, 8 * kGiB),
                                    agent_guest(2, 256 * kMiB, 100 * kMiB)};
  guests[0].settings.max_kib = 3 * kGiB;
  guests[1].stats.floor_kib = 1 * kGiB;
  Plan plan = step(host_for(12 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].target_kib == 3 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kShrinkToBounds);
  CHECK(plan.guests[1].target_kib == 1 * kGiB);
  CHECK(plan.guests[1].reason == Reason::kShrinkToBounds);
  CHECK(plan.actions.size() == 2);
  CHECK(plan.actions[0].domid == 1);
  CHECK(plan.actions[1].domid == 2);
}

TEST_CASE("weights: spare memory is split 2 to 1 between guests of weight 2 and 1") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {agent_guest(1, 1 * kGiB, 960 * kMiB),
                                    agent_guest(2, 1 * kGiB, 960 * kMiB)};
  guests[0].settings.weight = 2;
  const Plan plan = step(host_for(5 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].need_kib == 1 * kGiB);
  CHECK(plan.guests[0].share_kib == 3 * kGiB);
  CHECK(plan.guests[1].share_kib == 2 * kGiB);
  CHECK(plan.guests[0].target_kib == 3 * kGiB);
  CHECK(plan.guests[1].target_kib == 2 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kGrowShare);
  // Largest grow first.
  REQUIRE(plan.actions.size() == 2);
  CHECK(plan.actions[0].domid == 1);
}

TEST_CASE("water-filling: what a capped guest cannot take goes to the others") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {agent_guest(1, 1 * kGiB, 960 * kMiB),
                                    agent_guest(2, 1 * kGiB, 960 * kMiB),
                                    agent_guest(3, 1 * kGiB, 960 * kMiB)};
  guests[2].settings.max_kib = 1536 * kMiB;
  const Plan plan = step(host_for(7 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].share_kib == 2816 * kMiB);
  CHECK(plan.guests[1].share_kib == 2816 * kMiB);
  CHECK(plan.guests[2].share_kib == 1536 * kMiB);

  // A guest of weight 0 gets its need and no spare memory.
  guests[2].settings = {};
  guests[2].settings.weight = 0;
  const Plan weightless = step(host_for(7 * kGiB, guests, s), guests, s);
  CHECK(weightless.guests[2].share_kib == 1 * kGiB);
  CHECK(weightless.guests[0].share_kib == 3 * kGiB);
}

TEST_CASE("needs above the available memory: every guest its min, the rest by need above it") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {agent_guest(1, 2 * kGiB, 2 * kGiB - 64 * kMiB),
                                    agent_guest(2, 2 * kGiB, 4 * kGiB - 64 * kMiB)};
  guests[0].settings.min_kib = 1 * kGiB;
  guests[1].settings.min_kib = 1 * kGiB;
  // Needs 2 and 4 GiB, 4 GiB available: the 2 GiB above the mins split 1:3.
  const Plan plan = step(host_for(4 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].share_kib == 1 * kGiB + 512 * kMiB);
  CHECK(plan.guests[1].share_kib == 2 * kGiB + 512 * kMiB);
  CHECK(plan.unmet_kib == 2 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kShrinkIdle);
  CHECK(plan.guests[1].reason == Reason::kWaitingForFree);  // nothing free before A gives back
}

TEST_CASE("rate limits: a target moves at most the rate times the elapsed time and a fraction") {
  Settings s;
  s.max_rate_kib_per_second = 256 * kMiB;
  s.max_step_fraction = 0.25;
  s.min_step_kib = 16 * kMiB;
  std::vector<GuestInput> guests = {agent_guest(1, 4 * kGiB, 6 * kGiB)};
  const HostInput host = host_for(12 * kGiB, guests, s);
  Plan plan = step(host, guests, s, 2);  // 512 MiB by the rate, 1 GiB by the fraction
  CHECK(plan.guests[0].share_kib == 12 * kGiB);
  CHECK(plan.guests[0].target_kib == 4 * kGiB + 512 * kMiB);
  CHECK(plan.guests[0].reason == Reason::kRateLimited);
  plan = step(host, guests, s, 10);  // 2.5 GiB by the rate, 1 GiB by the fraction
  CHECK(plan.guests[0].target_kib == 5 * kGiB);
  // Shrinking too.
  guests[0].target_kib = guests[0].actual_kib.emplace(15 * kGiB);
  plan = step(host_for(12 * kGiB, guests, s), guests, s, 1);
  CHECK(plan.guests[0].share_kib == 12 * kGiB);
  CHECK(plan.guests[0].target_kib == 15 * kGiB - 256 * kMiB);
  CHECK(plan.guests[0].reason == Reason::kRateLimited);
}

TEST_CASE("the minimum step: smaller changes are skipped and a move is at least min_step_kib") {
  Settings s;
  s.max_rate_kib_per_second = 1 * kMiB;  // 5 MiB in 5 s
  s.max_step_fraction = 0.25;
  s.min_step_kib = 16 * kMiB;
  // Share 10 MiB above the target: skipped.
  std::vector<GuestInput> guests = {agent_guest(1, 1 * kGiB, 1 * kGiB - 64 * kMiB, 16 * kGiB)};
  guests[0].settings.max_kib = 1 * kGiB + 10 * kMiB;
  Plan plan = step(host_for(4 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].share_kib == 1 * kGiB + 10 * kMiB);
  CHECK(plan.guests[0].target_kib == 1 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kUnchanged);
  CHECK(plan.actions.empty());
  // 40 MiB away: moves by min_step_kib (the rate allows 5 MiB).
  guests[0].settings.max_kib = 1 * kGiB + 40 * kMiB;
  plan = step(host_for(4 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].target_kib == 1 * kGiB + 16 * kMiB);
  CHECK(plan.guests[0].reason == Reason::kRateLimited);
  // 20 MiB away with a rate of 50 MiB: to the share, never past it.
  s.max_rate_kib_per_second = 10 * kMiB;
  guests[0].settings.max_kib = 1 * kGiB + 20 * kMiB;
  plan = step(host_for(4 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].target_kib == 1 * kGiB + 20 * kMiB);
  CHECK(plan.guests[0].reason == Reason::kGrowShare);
  // Below its min by less than a step: moved anyway.
  guests[0].settings = {};
  guests[0].settings.min_kib = 1 * kGiB + 4 * kMiB;
  set_committed(guests[0], 100 * kMiB);
  plan = step(host_for(1 * kGiB + 4 * kMiB, guests, s), guests, s);
  CHECK(plan.guests[0].target_kib == 1 * kGiB + 4 * kMiB);
  CHECK(plan.guests[0].reason == Reason::kShrinkToBounds);
}

TEST_CASE("stuck and uncooperative guests keep their targets and their memory is not counted") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {agent_guest(1, 2 * kGiB, 1 * kGiB), bare_guest(2, 1 * kGiB),
                                    agent_guest(3, 1 * kGiB, 1 * kGiB)};
  guests[0].actual_kib = 3 * kGiB;  // asked to shrink, did not
  guests[0].state = GuestState::kStuck;
  guests[1].actual_kib.reset();
  guests[1].state = GuestState::kUncooperative;
  const Plan plan = step(host_for(8 * kGiB, guests, s), guests, s);
  CHECK(plan.available_kib == 4 * kGiB);
  CHECK(plan.unreclaimable_kib == 1 * kGiB);
  CHECK(plan.guests[0].target_kib == 2 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kStuck);
  CHECK(plan.guests[1].target_kib == 1 * kGiB);
  CHECK(plan.guests[1].reason == Reason::kUncooperative);
  CHECK(plan.guests[2].share_kib == 4 * kGiB);
  CHECK(plan.guests[2].target_kib == 4 * kGiB);
  CHECK(plan.actions.size() == 1);
}

TEST_CASE("pinned and excluded guests keep their targets and what they hold is reserved") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {
      agent_guest(1, 2 * kGiB, 100 * kMiB), agent_guest(2, 1 * kGiB, 100 * kMiB),
      agent_guest(3, 1 * kGiB, 100 * kMiB), agent_guest(4, 1 * kGiB, 1 * kGiB)};
  guests[0].settings.pinned = true;
  guests[1].settings.excluded = true;
  guests[1].actual_kib = 1536 * kMiB;
  guests[2].state = GuestState::kPinned;
  const Plan plan = step(host_for(8 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].reason == Reason::kPinned);
  CHECK(plan.guests[1].reason == Reason::kExcluded);
  CHECK(plan.guests[2].reason == Reason::kPinned);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(plan.guests[i].changed());
  CHECK(plan.available_kib == 8 * kGiB - 2 * kGiB - 1536 * kMiB - 1 * kGiB);
  CHECK(plan.guests[3].share_kib == plan.available_kib);
}

TEST_CASE("two phases: every shrink before every grow and grows bounded by free memory") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {
      agent_guest(1, 1 * kGiB, 2 * kGiB), agent_guest(2, 4 * kGiB, 100 * kMiB),
      agent_guest(3, 1 * kGiB, 3 * kGiB), agent_guest(4, 3 * kGiB, 100 * kMiB)};
  for (auto& g : guests) g.settings.weight = 0;  // shares are the needs
  // 9 GiB held of 12 GiB, but only 512 MiB free beyond the reserve.
  const HostInput host = host_for(12 * kGiB, guests, s, s.host_reserve_kib + 512 * kMiB);
  const Plan plan = step(host, guests, s);
  REQUIRE(plan.actions.size() == 3);
  CHECK(plan.actions[0].domid == 2);  // 4 GiB -> 164 MiB
  CHECK(plan.actions[1].domid == 4);  // 3 GiB -> 164 MiB
  // The largest need first gets the free memory: 3 gets 512 MiB, 1 waits.
  CHECK(plan.actions[2].domid == 3);
  CHECK(plan.actions[2].to_kib == 1 * kGiB + 512 * kMiB);
  CHECK(plan.guests[2].reason == Reason::kWaitingForFree);
  CHECK(plan.guests[0].target_kib == 1 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kWaitingForFree);
}

TEST_CASE("a guest without an agent keeps its target unless its bounds force a change") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {bare_guest(1, 2 * kGiB), agent_guest(2, 1 * kGiB, 1 * kGiB)};
  Plan plan = step(host_for(16 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].need_kib == 2 * kGiB);
  CHECK(plan.guests[0].share_kib == 2 * kGiB);
  CHECK(plan.guests[0].target_kib == 2 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kUnchanged);
  CHECK(plan.guests[1].share_kib == 14 * kGiB);
  // Short of memory it still keeps it; the agent guest gets what is left.
  set_committed(guests[1], 10 * kGiB);
  plan = step(host_for(6 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].share_kib == 2 * kGiB);
  CHECK(plan.guests[1].share_kib == 4 * kGiB);
  // A max below its target lowers it.
  guests[0].settings.max_kib = 1 * kGiB;
  plan = step(host_for(6 * kGiB, guests, s), guests, s);
  CHECK(plan.guests[0].target_kib == 1 * kGiB);
  CHECK(plan.guests[0].reason == Reason::kShrinkToBounds);
}

TEST_CASE("a selfballooning guest's target is its ceiling by the same arithmetic") {
  const Settings s = unlimited();
  std::vector<GuestInput> guests = {agent_guest(1, 2 * kGiB, 1 * kGiB),
                                    agent_guest(2, 2 * kGiB, 1 * kGiB)};
  const Plan directed = step(host_for(8 * kGiB, guests, s), guests, s);
  guests[0].stats.mode = "selfballoon";
  guests[0].actual_kib = 1200 * kMiB;  // gave back below its ceiling by itself
  const Plan self = step(host_for(8 * kGiB, guests, s), guests, s);
  CHECK(self.guests[0].share_kib == directed.guests[0].share_kib);
  CHECK(self.guests[0].target_kib == 4 * kGiB);

  // Below its ceiling is where it should be: never stuck for it.
  GuestProgress progress;
  for (double now = 0; now < 400; now += 10) {
    CHECK(progress.observe(1, "u", 4 * kGiB, 1200 * kMiB, guests[0].stats, now).state ==
          GuestState::kOk);
  }
}

TEST_CASE("pressure raises the need by the boost times the largest pressure signal") {
  Settings s;
  GuestInput g = agent_guest(1, 2 * kGiB, 1 * kGiB);
  CHECK(guest_need_kib(g, s) == 1088 * kMiB);
  g.rates.psi_some_share = 0.05;  // half of psi_full_share
  CHECK(guest_pressure(g.rates, s) == Approx(0.5));
  CHECK(guest_need_kib(g, s) == 1360 * kMiB);
  g.rates.swapin_pages_per_second = 1024;  // 4 times full: capped at 1
  CHECK(guest_pressure(g.rates, s) == Approx(1));
  CHECK(guest_need_kib(g, s) == 1632 * kMiB);
  g.rates = {};
  g.rates.majfault_per_second = 250;
  CHECK(guest_pressure(g.rates, s) == Approx(0.25));
  g.rates.refault_pages_per_second = 1024;
  CHECK(guest_pressure(g.rates, s) == Approx(0.5));
  // The pressured guest gets more of a short host.
  std::vector<GuestInput> guests = {agent_guest(1, 2 * kGiB, 2 * kGiB),
                                    agent_guest(2, 2 * kGiB, 2 * kGiB)};
  guests[0].rates.psi_some_share = 1;
  const Plan plan = step(host_for(4 * kGiB, guests, unlimited()), guests, unlimited());
  CHECK(plan.guests[0].need_kib > plan.guests[1].need_kib);
  CHECK(plan.guests[0].share_kib > plan.guests[1].share_kib);
}

namespace {

publish::GuestStats counters(double uptime, u64 psi_us, u64 swapin, u64 majfault, u64 refault) {
  publish::GuestStats st;
  st.agent = "xenballoond 0.1.0";
  st.uptime_seconds = uptime;
  st.psi_some = publish::Psi{0, 0, 0, psi_us};
  st.vmstat.known[*publish::vmstat_index("pswpin")] = swapin;
  st.vmstat.known[*publish::vmstat_index("pgmajfault")] = majfault;
  st.vmstat.known[*publish::vmstat_index("workingset_refault_file")] = refault;
  return st;
}

}  // namespace

TEST_CASE("GuestProgress: rates between publications and a reboot resets them") {
  GuestProgress progress;
  auto o = progress.observe(1, "u", kGiB, kGiB, counters(100, 0, 0, 0, 0), 1000);
  CHECK(o.rates.psi_some_share == 0);
  CHECK(o.rates.swapin_pages_per_second == 0);
  // 10 s of the guest's uptime (the daemon looked 12 s later).
  o = progress.observe(1, "u", kGiB, kGiB, counters(110, 2'000'000, 1000, 50, 3000), 1012);
  CHECK(o.rates.psi_some_share == Approx(0.2));
  CHECK(o.rates.swapin_pages_per_second == Approx(100));
  CHECK(o.rates.majfault_per_second == Approx(5));
  CHECK(o.rates.refault_pages_per_second == Approx(300));
  // The same publication again: the same rates.
  o = progress.observe(1, "u", kGiB, kGiB, counters(110, 2'000'000, 1000, 50, 3000), 1017);
  CHECK(o.rates.swapin_pages_per_second == Approx(100));
  // Counters back (a reboot): rates 0, then from the new counters.
  o = progress.observe(1, "u", kGiB, kGiB, counters(5, 100, 10, 1, 0), 1030);
  CHECK(o.rates.psi_some_share == 0);
  CHECK(o.rates.swapin_pages_per_second == 0);
  CHECK(o.rates.majfault_per_second == 0);
  o = progress.observe(1, "u", kGiB, kGiB, counters(15, 100, 110, 1, 0), 1040);
  CHECK(o.rates.swapin_pages_per_second == Approx(10));
  // Without an uptime: timed by when they were seen.
  publish::GuestStats a = counters(0, 0, 0, 0, 0), b = counters(0, 0, 600, 0, 0);
  a.uptime_seconds.reset();
  b.uptime_seconds.reset();
  progress.observe(2, "v", kGiB, kGiB, a, 0);
  CHECK(progress.observe(2, "v", kGiB, kGiB, b, 6).rates.swapin_pages_per_second == Approx(100));
}

TEST_CASE("GuestProgress: a guest that does not move toward its target is stuck and retried") {
  GuestProgress progress({60, 300, 1024});
  const publish::GuestStats st = counters(1, 0, 0, 0, 0);
  auto state = [&](u64 target, u64 actual, double now) {
    return progress.observe(7, "u", target, actual, st, now).state;
  };
  CHECK(state(3 * kGiB, 3 * kGiB, 0) == GuestState::kOk);
  CHECK(state(2 * kGiB, 3 * kGiB, 10) == GuestState::kOk);        // asked to shrink
  CHECK(state(2 * kGiB, 3 * kGiB - 512, 40) == GuestState::kOk);  // within the tolerance
  CHECK(state(2 * kGiB, 3 * kGiB - 512, 69) == GuestState::kOk);
  CHECK(state(2 * kGiB, 3 * kGiB, 70) == GuestState::kStuck);
  CHECK(state(2 * kGiB, 3 * kGiB, 300) == GuestState::kStuck);
  CHECK(state(2 * kGiB, 3 * kGiB, 370) == GuestState::kOk);  // retried after 300 s
  CHECK(state(2 * kGiB, 3 * kGiB, 400) == GuestState::kOk);
  CHECK(state(2 * kGiB, 3 * kGiB, 430) == GuestState::kStuck);  // again 60 s later
  CHECK(state(2 * kGiB, 2500 * kMiB, 440) == GuestState::kOk);  // it moved
  CHECK(state(2 * kGiB, 2500 * kMiB, 499) == GuestState::kOk);
  CHECK(state(2 * kGiB, 2 * kGiB + 1000, 600) == GuestState::kOk);  // arrived
  // Targets changed in small steps in the same direction do not restart the clock.
  CHECK(state(1900 * kMiB, 2 * kGiB, 610) == GuestState::kOk);
  CHECK(state(1800 * kMiB, 2 * kGiB, 640) == GuestState::kOk);
  CHECK(state(1700 * kMiB, 2 * kGiB, 670) == GuestState::kStuck);
}

TEST_CASE("GuestProgress: uncooperative guests without an agent or without any figure") {
  GuestProgress progress({60, 300, 1024});
  const publish::GuestStats none{};
  // No agent and it never follows: uncooperative instead of stuck.
  CHECK(progress.observe(3, "u", 2 * kGiB, 2 * kGiB, none, 0).state == GuestState::kOk);
  CHECK(progress.observe(3, "u", 1 * kGiB, 2 * kGiB, none, 10).state == GuestState::kOk);
  CHECK(progress.observe(3, "u", 1 * kGiB, 2 * kGiB, none, 70).state == GuestState::kUncooperative);
  CHECK(progress.observe(3, "u", 1 * kGiB, 2 * kGiB, none, 370).state == GuestState::kOk);
  // One that followed once is only stuck when it stops.
  CHECK(progress.observe(4, "u", 2 * kGiB, 2 * kGiB, none, 0).state == GuestState::kOk);
  CHECK(progress.observe(4, "u", 1 * kGiB, 2 * kGiB, none, 10).state == GuestState::kOk);
  CHECK(progress.observe(4, "u", 1 * kGiB, 1 * kGiB, none, 20).state == GuestState::kOk);
  CHECK(progress.observe(4, "u", 2 * kGiB, 1 * kGiB, none, 30).state == GuestState::kOk);
  CHECK(progress.observe(4, "u", 2 * kGiB, 1 * kGiB, none, 90).state == GuestState::kStuck);
  // Nothing says what it holds (no actual, no balloon figure): uncooperative.
  CHECK(progress.observe(5, "u", 2 * kGiB, std::nullopt, none, 0).state ==
        GuestState::kUncooperative);
  publish::GuestStats balloon;
  balloon.current_kib = 2 * kGiB;  // the agent's balloon figure stands in for the actual
  CHECK(progress.observe(5, "u", 2 * kGiB, std::nullopt, balloon, 10).state == GuestState::kOk);
}

TEST_CASE("GuestProgress: a new uuid for the same domid and retain start afresh") {
  GuestProgress progress({60, 300, 1024});
  const publish::GuestStats st = counters(100, 0, 0, 0, 0);
  progress.observe(9, "old", 1 * kGiB, 2 * kGiB, st, 0);
  CHECK(progress.observe(9, "old", 1 * kGiB, 2 * kGiB, st, 61).state == GuestState::kStuck);
  CHECK(progress.observe(9, "new", 1 * kGiB, 2 * kGiB, st, 62).state == GuestState::kOk);
  // Rates start afresh too: the first publication of the new domain gives none.
  auto o = progress.observe(9, "new2", kGiB, kGiB, counters(200, 0, 5000, 0, 0), 70);
  CHECK(o.rates.swapin_pages_per_second == 0);
  o = progress.observe(9, "new2", kGiB, kGiB, counters(210, 0, 6000, 0, 0), 80);
  CHECK(o.rates.swapin_pages_per_second == Approx(100));
  progress.retain({1, 2});
  o = progress.observe(9, "new2", kGiB, kGiB, counters(220, 0, 7000, 0, 0), 90);
  CHECK(o.rates.swapin_pages_per_second == 0);  // forgotten
}

TEST_CASE("repeated steps with guests that follow their targets converge to the shares") {
  const Settings s;  // the default limits
  std::vector<GuestInput> guests = {agent_guest(1, 8 * kGiB, 1 * kGiB),
                                    agent_guest(2, 1 * kGiB, 6 * kGiB),
                                    agent_guest(3, 2 * kGiB, 2 * kGiB)};
  guests[2].settings.weight = 3;
  Plan plan;
  int steps = 0;
  for (; steps < 100; ++steps) {
    plan = step(host_for(12 * kGiB, guests, s), guests, s);
    if (plan.actions.empty()) break;
    guests = applied(guests, plan);
    for (auto& g : guests) g.actual_kib = g.target_kib;
  }
  CHECK(steps < 30);
  for (const GuestPlan& p : plan.guests) {
    CHECK(p.target_kib + s.min_step_kib > p.share_kib);
    CHECK(p.share_kib + s.min_step_kib > p.target_kib);
  }
  CHECK(plan.unmet_kib == 0);
}

TEST_CASE("to_string names every state and reason") {
  CHECK(to_string(GuestState::kUncooperative) == "uncooperative");
  CHECK(to_string(Reason::kWaitingForFree) == "waiting_for_free");
  CHECK(to_string(Reason::kGrowForNeed) == "grow_for_need");
}

namespace {

struct Random {
  std::mt19937_64 engine;
  // Plain arithmetic on the engine's output (the distributions are slow in a sanitizer build;
  // the modulo's bias is far below what matters here).
  u64 below(u64 n) { return n ? engine() % n : 0; }
  u64 between(u64 lo, u64 hi) { return lo + below(hi - lo + 1); }
  double unit() { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  template <typename T, std::size_t N>
  T pick(const T (&values)[N]) {
    return values[below(N)];
  }
};

struct Case {
  HostInput host;
  std::vector<GuestInput> guests;
  Settings settings;
  double elapsed = 5;
};

// Fills `c` (its storage is reused from case to case).
void random_case(Random& r, Case& c) {
  c.guests.clear();
  Settings& s = c.settings;
  const u64 scale = r.chance(0.02) ? u64{1} << 20 : 1;  // now and then, absurd sizes
  s.host_reserve_kib = r.pick({u64{0}, 64 * kMiB, 256 * kMiB, r.below(kGiB)}) * scale;
  s.guest_reserve_kib = r.below(256 * kMiB);
  s.default_min_kib = r.below(512 * kMiB);
  s.pressure_boost = r.pick({0.0, 0.5, 1.0, 3.0});
  s.psi_full_share = r.pick({0.0, 0.1, 0.5});
  s.swapin_pages_per_second = r.pick({0.0, 256.0, 1000.0});
  s.majfault_per_second = r.pick({0.0, 1000.0});
  s.refault_pages_per_second = r.pick({0.0, 2048.0});
  s.max_rate_kib_per_second = r.pick({u64{0}, 64 * kMiB, 256 * kMiB, r.below(2 * kGiB)});
  s.max_step_fraction = r.pick({0.0, 0.1, 0.25, 1.0, r.unit()});
  s.min_step_kib = r.pick({u64{0}, 16 * kMiB, r.below(256 * kMiB)});
  c.elapsed = r.pick(
      {0.0, 1.0, 5.0, 10.0, 30.0, r.unit() * 60, -1.0, std::numeric_limits<double>::quiet_NaN()});
  const std::size_t n = r.between(1, 16);
  u64 holding = 0, actual_sum = 0;
  const char* modes[] = {"selfballoon", "directed", "dry-run", ""};
  const GuestState states[] = {GuestState::kStuck, GuestState::kUncooperative, GuestState::kPinned,
                               GuestState::kExcluded};
  for (std::size_t i = 0; i < n; ++i) {
    GuestInput& g = c.guests.emplace_back();
    g.domid = static_cast<std::uint32_t>(i + 1);
    u64 static_max = r.between(64 * kMiB, 16 * kGiB) * scale;
    g.target_kib = r.below(static_max + static_max / 5 + 1);
    if (r.chance(0.05)) static_max = 0;
    g.static_max_kib = static_max;
    if (!r.chance(0.2)) {
      const u64 t = g.target_kib;
      g.actual_kib = r.chance(0.1)   ? r.below(2 * t + 1)
                     : r.chance(0.5) ? t
                                     : r.between(t - t / 4, t + t / 4);
    }
    if (!r.chance(0.15)) {
      set_committed(g, r.below((g.target_kib + 1) * 3 / 2 + 1));
      if (r.chance(0.3)) g.stats.floor_kib = r.below(g.target_kib + 1);
      const std::string mode = r.pick(modes);
      if (!mode.empty()) g.stats.mode = mode;
      if (r.chance(0.1)) g.stats.static_max_kib = r.between(64 * kMiB, 16 * kGiB) * scale;
    }
    if (r.chance(0.25)) g.state = r.pick(states);
    if (r.chance(0.25)) g.settings.min_kib = r.below(g.target_kib + kGiB) + 1;
    if (r.chance(0.25)) g.settings.max_kib = (r.below(16 * kGiB) + 1) * scale;
    g.settings.weight = r.pick({0.0, 0.5, 1.0, 1.0, 2.0, 3.7, 10.0});
    g.settings.pinned = r.chance(0.05);
    g.settings.excluded = r.chance(0.05);
    if (r.chance(0.5)) g.rates.psi_some_share = r.unit();
    if (r.chance(0.3)) g.rates.swapin_pages_per_second = r.unit() * 1000;
    if (r.chance(0.3)) g.rates.majfault_per_second = r.unit() * 3000;
    if (r.chance(0.3)) g.rates.refault_pages_per_second = r.unit() * 5000;
    holding += std::max(g.target_kib, g.actual_kib.value_or(g.target_kib));
    actual_sum += g.actual_kib.value_or(g.target_kib);
  }
  // Hosts from much too small to roomy; free memory as the guests leave it, or anything.
  const double size = r.pick({0.5, 0.9, 1.0, 1.1, 2.0, 0.5 + r.unit() * 2});
  c.host.total_kib = s.host_reserve_kib + static_cast<u64>(static_cast<double>(holding) * size);
  c.host.free_kib =
      r.chance(0.7) ? sat_sub(c.host.total_kib, actual_sum) : r.below(c.host.total_kib + 1);
}

}  // namespace

TEST_CASE("property: every invariant holds over 100000 random hosts and guest sets") {
  std::size_t count = 100'000;
  if (const char* env = std::getenv("XENBALLOON_BALANCE_CASES")) {
    count = std::strtoull(env, nullptr, 10);
  }
  Random r{std::mt19937_64(20081201)};
  std::size_t grew = 0, shrank = 0, waited = 0, limited = 0, short_of_needs = 0;
  Case c;
  for (std::size_t k = 0; k < count; ++k) {
    random_case(r, c);
    const Plan plan = plan_step(c.host, c.guests, c.settings, c.elapsed);
    const std::string broken = check_plan(c.host, c.guests, c.settings, c.elapsed, plan);
    if (!broken.empty()) {
      INFO("case " << k << ": " << broken);
      REQUIRE(broken.empty());
    }
    for (const GuestPlan& p : plan.guests) {
      grew += p.target_kib > p.from_kib;
      shrank += p.target_kib < p.from_kib;
      waited += p.reason == Reason::kWaitingForFree;
      limited += p.reason == Reason::kRateLimited;
    }
    short_of_needs += plan.unmet_kib > 0;
  }
  // The generator reaches every branch.
  if (count >= 10'000) {
    CHECK(grew > count / 10);
    CHECK(shrank > count / 10);
    CHECK(waited > count / 100);
    CHECK(limited > count / 100);
    CHECK(short_of_needs > count / 100);
  }
}
