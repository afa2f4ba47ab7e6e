// The agent's link to xenstore: two libxenstore connections (one holds the watch on memory/, the
// other makes the requests), connecting and reconnecting with backoff, what dom0 writes under
// memory/ (target, static-max, the overrides, each checked against xenstore/keys.h), and
// save/restore detection (a new connection, the watch registering afresh, a changed domid).
// Not thread-safe except the dom0() view, which the HTTP threads may read at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "xenballoon/policy/policy.h"
#include "xenballoon/result.h"
#include "xenballoon/xenstore/reconnect.h"

namespace xenballoon::xenstore {
class Client;
}

namespace xenballoon::agent {

class AgentMetrics;

// What dom0 has written, as last read. A plain value.
struct Dom0View {
  std::optional<std::uint64_t> target_kib;      // memory/target
  std::optional<std::uint64_t> static_max_kib;  // memory/static-max
  Dom0Overrides overrides;                      // only values within their ranges
};

class XenstoreLink {
 public:
  using Clock = std::chrono::steady_clock;

  // `socket`: empty for libxenstore's default. `metrics` must outlive the link.
  XenstoreLink(std::string socket, AgentMetrics& metrics);
  ~XenstoreLink();
  XenstoreLink(const XenstoreLink&) = delete;
  XenstoreLink& operator=(const XenstoreLink&) = delete;

  // Connects when not connected and the backoff allows; true when connected.
  bool ensure();
  bool connected() const { return requests_ != nullptr; }
  // When ensure() may try again (in the past when it may now).
  Clock::time_point next_reconnect() const { return reconnect_.next_try(); }
  // The watch connection's descriptor to poll, -1 when not connected.
  int watch_fd() const;

  // Reads every pending watch event's key.
  void handle_watch_events();
  // Reads memory/target now (the balloon driver may have seen a new one before our watch).
  void read_target();
  // Reads domid; a change since the last read means a restore or migration: reads memory/ again.
  void check_domid();

  // The request connection, null when not connected.
  xenstore::Client* requests() { return requests_.get(); }
  // Counts a failed xenstore operation; a connection error disconnects.
  void count_error(const char* operation, const Error& error);

  Dom0View dom0() const;
  // When dom0 moved memory/target since the last call (followed at once by the loop).
  bool target_changed() const { return target_event_.has_value(); }
  std::optional<Clock::time_point> take_target_event();
  // Grows on every fresh read of memory/ (connection, resume, domid change): the new home holds
  // none of what was published, so the publisher writes everything again.
  std::uint64_t generation() const { return generation_; }

 private:
  void disconnect(const std::string& why);
  void reread_after_resume(const char* why);
  // `key` below memory/: "target", "static-max" or an override's name.
  void read_memory_key(std::string_view key);

  std::string socket_;
  AgentMetrics& metrics_;
  std::unique_ptr<xenstore::Client> requests_;  // both are set or both are null
  std::unique_ptr<xenstore::Client> watcher_;   // holds the watch on memory/
  xenstore::Reconnect reconnect_;
  std::optional<std::string> domid_;  // changes across save/restore and migration
  std::optional<Clock::time_point> target_event_;
  std::uint64_t generation_ = 0;

  mutable std::mutex dom0_mutex_;
  Dom0View dom0_;
};

}  // namespace xenballoon::agent
