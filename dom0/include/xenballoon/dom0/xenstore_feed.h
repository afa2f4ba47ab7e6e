// Keeps a GuestCache in step with xenstore: one full read of every domain on (re)connection,
// then watch events (one watch on /local/domain plus @introduceDomain and @releaseDomain) say
// which domain and key to re-read. Pending events are coalesced first, so a guest rewriting a
// key thousands of times a second costs one read per key per pass, and every other guest is
// served in the same pass. Reconnects with backoff when xenstore goes away.
// Not thread-safe: one thread drives it; the cache and status() may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/guest_keys.h"
#include "xenballoon/result.h"
#include "xenballoon/xenstore/client.h"
#include "xenballoon/xenstore/reconnect.h"

namespace xenballoon::dom0 {

// Thread-safe (atomics).
struct FeedStatus {
  std::atomic<bool> connected{false};
  std::atomic<bool> synced{false};  // every domain read since the last connection
  std::atomic<std::uint64_t> reconnects{0};
};

// Plain value; not synchronized.
struct FeedOptions {
  std::string socket_path;  // "" = libxenstore's own choice ($XENSTORED_PATH, ...)
  bool watch = true;        // false: full reads only (xenballoon-monitor --once)
  std::chrono::milliseconds probe_interval{1000};
  std::chrono::milliseconds max_backoff{5000};
  // Watch events taken per pass before the reads; the rest wait for the next pass.
  std::size_t max_events_per_pass = 20000;
};

// Not thread-safe: driven from one thread.
class XenstoreFeed {
 public:
  using Clock = std::chrono::steady_clock;

  XenstoreFeed(GuestCache& cache, FeedOptions options = {});
  ~XenstoreFeed();
  XenstoreFeed(const XenstoreFeed&) = delete;
  XenstoreFeed& operator=(const XenstoreFeed&) = delete;

  // Connects and reads every domain now, whatever the backoff says.
  Result<void> connect();
  // One pass: reconnects when due, applies pending watch events, probes an idle connection.
  void step();
  // Readable when watch events are pending; -1 while disconnected.
  int poll_fd();
  // How long the caller may wait on poll_fd() before the next step() is due.
  std::chrono::milliseconds poll_timeout() const;

  const FeedStatus& status() const { return status_; }

 private:
  struct DomainRead {
    std::vector<std::pair<std::string, std::string>> values;
    std::size_t unknown_agent_keys = 0;
  };
  // What a pass must re-read for one domain.
  struct Dirty {
    bool whole = false;
    std::set<GuestDir> dirs;
    std::set<std::string> keys;
  };

  Result<void> full_sync();
  void apply_events();
  void collect_event(const xenstore::WatchEvent& event, std::map<std::uint32_t, Dirty>* dirty,
                     bool* relist);
  Result<void> relist(std::map<std::uint32_t, Dirty>* dirty);
  // Reads the domain whole when dirty.whole (apply_events sets it for domains not cached yet).
  Result<void> refresh(std::uint32_t domid, const Dirty& dirty);
  Result<void> refresh_dir(std::uint32_t domid, GuestDir dir);
  Result<std::optional<DomainRead>> read_domain(std::uint32_t domid);
  Result<std::optional<std::string>> read_optional(const std::string& path);
  Result<std::optional<std::vector<std::string>>> list_optional(const std::string& path);
  void disconnect(const std::string& why);
  static double unix_now();

  GuestCache& cache_;
  FeedOptions options_;
  std::unique_ptr<xenstore::Client> client_;
  FeedStatus status_;
  xenstore::Reconnect reconnect_;
  Clock::time_point last_activity_{};
};

}  // namespace xenballoon::dom0
