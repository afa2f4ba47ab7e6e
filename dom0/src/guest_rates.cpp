#include "xenballoon/dom0/guest_rates.h"

#include <set>

namespace xenballoon::dom0 {
namespace {

// Order of Publication::counters and of the GuestRates fields.
constexpr const char* kCounterNames[] = {"pswpin", "pswpout", "pgpgin", "pgpgout", "pgmajfault"};

}  // namespace

bool RateTracker::Publication::same_as(const Publication& other) const {
  return uptime == other.uptime && heartbeat == other.heartbeat && counters == other.counters;
}

RateTracker::Publication RateTracker::publication_of(const GuestView& view, double now) {
  Publication p;
  p.seen = now;
  p.uptime = view.stats.uptime_seconds;
  if (view.stats.heartbeat_unix_seconds) {
    p.heartbeat = static_cast<double>(*view.stats.heartbeat_unix_seconds);
  }
  for (std::size_t i = 0; i < kCounters; ++i) {
    p.counters[i] = view.stats.vmstat_value(kCounterNames[i]);
  }
  return p;
}

GuestRates RateTracker::rates_between(const Publication& before, const Publication& after) {
  double seconds = 0;
  if (before.uptime && after.uptime) {
    // A guest whose uptime went back rebooted (or is a new domain with a reused id).
    if (*after.uptime < *before.uptime) return {};
    seconds = *after.uptime - *before.uptime;
  }
  if (seconds <= 0 && before.heartbeat && after.heartbeat) {
    seconds = *after.heartbeat - *before.heartbeat;
  }
  if (seconds <= 0) seconds = after.seen - before.seen;
  if (seconds <= 0) return {};
  std::array<std::optional<double>, kCounters> per_second;
  for (std::size_t i = 0; i < kCounters; ++i) {
    const auto &a = before.counters[i], &b = after.counters[i];
    if (a && b && *b >= *a) per_second[i] = static_cast<double>(*b - *a) / seconds;
  }
  return {per_second[0], per_second[1], per_second[2], per_second[3], per_second[4]};
}

void RateTracker::observe(const std::vector<GuestView>& views, double now) {
  std::set<std::uint32_t> present;
  for (const GuestView& view : views) {
    present.insert(view.domid);
    Publication current = publication_of(view, now);
    auto it = states_.find(view.domid);
    if (it == states_.end()) {
      states_.emplace(view.domid, State{current, {}});
      continue;
    }
    State& state = it->second;
    if (current.same_as(state.latest)) continue;
    state.rates = rates_between(state.latest, current);
    state.latest = current;
  }
  std::erase_if(states_, [&](const auto& entry) { return !present.count(entry.first); });
}

GuestRates RateTracker::rates(std::uint32_t domid) const {
  auto it = states_.find(domid);
  return it == states_.end() ? GuestRates{} : it->second.rates;
}

}  // namespace xenballoon::dom0
