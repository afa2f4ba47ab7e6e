// The agent's publication in xenstore: the one conversion of its readings into the guest-stats
// value (guest_stats(), also what /metrics shows), written in one transaction below
// data/xenballoon/ with only the keys that changed, plus the 2008 daemon's keys under memory/
// when legacy_paths is on. Not thread-safe: the agent's loop owns the Publisher; guest_stats()
// is a pure function.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "readings.h"
#include "xenballoon/policy/policy.h"
#include "xenballoon/publish/guest_stats.h"
#include "xenstore_link.h"

namespace xenballoon::agent {

class AgentMetrics;

// Everything a publication is made from; references into the caller's state.
struct StatsSources {
  const Readings& readings;
  const std::optional<Decision>& decision;
  std::optional<std::uint64_t> target_kib;  // the target the agent last decided
  const PolicySettings& settings;
  bool dry_run;
  const std::vector<std::string>& vmstat_fields;  // the published selection, in order
  const Dom0View& dom0;
};

// The one conversion of the agent's readings into the guest-stats value: what it publishes and,
// with dom0's figures, what it serves on /metrics.
publish::GuestStats guest_stats(const StatsSources& from);

class Publisher {
 public:
  explicit Publisher(AgentMetrics& metrics) : metrics_(metrics) {}

  // Writes what changed since the last publication on this connection and generation; returns
  // the heartbeat published, nullopt when the transaction failed. `link` must be connected.
  std::optional<std::int64_t> publish(XenstoreLink& link, const publish::GuestStats& stats,
                                      const Readings& readings, bool legacy_paths,
                                      const std::vector<std::string>& vmstat_fields);
  // Publishes everything again next time (after a reload).
  void forget() { published_.clear(); }

 private:
  void publish_legacy(XenstoreLink& link, const Readings& r,
                      const std::vector<std::string>& vmstat_fields,
                      std::optional<std::uint64_t> target_kib);

  AgentMetrics& metrics_;
  std::map<std::string, std::string> published_;  // key below data/xenballoon/ -> value
  std::uint64_t generation_ = 0;                  // the link's when published_ was filled
  bool legacy_denied_reported_ = false;
};

}  // namespace xenballoon::agent
