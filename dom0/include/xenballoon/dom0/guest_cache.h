// The dom0 side's in-memory picture of every domain, kept in step with xenstore by XenstoreFeed
// and read by scrapes and the monitor without any xenstore round trip.
// Thread-safe: one writer at a time, any number of readers (a shared mutex).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xenballoon/dom0/guest_record.h"

namespace xenballoon::dom0 {

// The reasons a guest value can be refused for; each starts at 0 so that rate() works at once.
const std::vector<std::string>& parse_error_reasons();

// Counters about the cache itself. Plain value; not synchronized.
struct CacheStats {
  std::map<std::string, std::uint64_t> parse_errors;  // by reason
  std::uint64_t updates = 0;                          // values re-read after a watch event
};

// Thread-safe (shared mutex: one writer, many readers).
class GuestCache {
 public:
  GuestCache();

  // Replaces what is known of `domid` with the values of one full read of its home
  // (relative key -> value). `after_event` counts the values as cache updates.
  void put_domain(std::uint32_t domid,
                  const std::vector<std::pair<std::string, std::string>>& values, double now,
                  bool after_event);
  // One key re-read after a watch event; nullopt when it is gone. Unknown domains are ignored.
  void update(std::uint32_t domid, std::string_view relative_key,
              const std::optional<std::string>& value, double now);
  // A key below data/xenballoon/ the layout does not know: counted, never stored.
  void count_unknown_agent_key(std::uint32_t domid);
  void remove(std::uint32_t domid);
  // Drops every domain not in `present`.
  void retain(const std::set<std::uint32_t>& present);

  bool contains(std::uint32_t domid) const;
  std::vector<std::uint32_t> domids() const;

  // Calls `visit(guests, stats)` under the read lock; guests are ordered by domid.
  template <typename Visit>
  void read(Visit&& visit) const {
    std::shared_lock lock(mutex_);
    visit(guests_, stats_);
  }
  // A copy of the exported guests' views, ordered by domid.
  std::vector<GuestView> views() const;

 private:
  void count_refusal(std::uint32_t domid, std::string_view key, const std::string& reason);

  mutable std::shared_mutex mutex_;
  std::map<std::uint32_t, GuestRecord> guests_;
  CacheStats stats_;
  // (domid, reason) pairs already logged at warning level; later ones go to debug.
  std::set<std::pair<std::uint32_t, std::string>> reported_;
};

}  // namespace xenballoon::dom0
