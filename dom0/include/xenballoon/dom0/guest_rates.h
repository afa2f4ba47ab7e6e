// Per-second rates of a guest's paging counters for xenballoon-monitor. Guests publish every few
// seconds, so a rate spans the guest's last two distinct publications, timed by the guest's own
// uptime (or heartbeat), not by when the monitor happened to look. Not synchronized.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "xenballoon/dom0/guest_record.h"

namespace xenballoon::dom0 {

// Plain value; not synchronized.
struct GuestRates {
  std::optional<double> swap_in, swap_out, page_in, page_out, major_faults;  // per second
};

// Not synchronized.
class RateTracker {
 public:
  // Takes the guests' current views, seen at `now` (Unix seconds); forgets domains not listed.
  void observe(const std::vector<GuestView>& views, double now);
  // All absent until a guest has published twice while observed.
  GuestRates rates(std::uint32_t domid) const;

 private:
  static constexpr std::size_t kCounters = 5;
  struct Publication {
    double seen = 0;
    std::optional<double> uptime, heartbeat;
    std::array<std::optional<std::uint64_t>, kCounters> counters;
    bool same_as(const Publication& other) const;
  };
  struct State {
    Publication latest;
    GuestRates rates;
  };
  static Publication publication_of(const GuestView& view, double now);
  static GuestRates rates_between(const Publication& before, const Publication& after);

  std::map<std::uint32_t, State> states_;
};

}  // namespace xenballoon::dom0
