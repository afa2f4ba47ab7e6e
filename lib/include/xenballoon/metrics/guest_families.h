// The guest families (docs/metrics.md) as one table over publish::GuestStats, in exposition
// order: the writers (the agent's prometheus-cpp text, the exporter's direct writer) and the
// exporter-exposition reader of xenballoon-monitor all walk it, so they cannot disagree on a
// family's name, unit or presence. Thread-safe (constant tables, pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xenballoon/metrics/vocabulary.h"
#include "xenballoon/publish/guest_stats.h"

namespace xenballoon::metrics {

// A value as the writers print it: an integer exactly, a real as its shortest round trip.
// Plain value.
struct SampleValue {
  bool integer = true;
  std::uint64_t u64 = 0;
  double real = 0;
  double as_double() const { return integer ? static_cast<double>(u64) : real; }
};

// One family with at most one series per guest, read from GuestStats (in the family's unit:
// bytes, seconds, ratios). Plain value.
struct GuestFamily {
  const Family* family;
  std::optional<SampleValue> (*value)(const publish::GuestStats&);
  // Takes a value read back from an exposition; null for xenballoon_agent_info, whose series
  // carries its values in labels (version, policy, mode; see agent_info_labels()).
  void (*assign)(publish::GuestStats&, double);
  bool agent_info = false;
};

// Every guest family after the meminfo and vmstat ones, in exposition order (uptime, PSI,
// balloon, static-max, dom0 target, selfballoon, agent info, heartbeat). Exporter-only families
// (last update) are not guest statistics and are written after these.
const std::vector<GuestFamily>& guest_families();

// The family names of the known meminfo fields and vmstat counters, indexed like
// publish::kMeminfoFields and publish::kVmstatCounters.
const std::vector<std::string>& meminfo_family_names();
const std::vector<std::string>& vmstat_family_names();
// The value of a known meminfo field in the family's unit (bytes, or a count for HugePages_*).
std::uint64_t meminfo_family_value(std::size_t index, std::uint64_t kib_or_count);
// Back from the family's unit into GuestStats' (KiB, or a count).
std::uint64_t meminfo_stats_value(std::size_t index, std::uint64_t bytes_or_count);

// Sets the agent's fields the way an exposition's xenballoon_agent_info series says.
void assign_agent_info(publish::GuestStats& stats, std::string version, std::string policy,
                       std::string mode);

// One guest for render_text(): its labels, its statistics and, for the exporter, when it last
// changed. Plain value; `stats` must outlive the call.
struct LabelledGuest {
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. domid, domain, uuid
  const publish::GuestStats* stats = nullptr;
  std::optional<double> last_update_unix_seconds;
};

// Text exposition (format 0.0.4) of the guests through prometheus-cpp, one HELP/TYPE block per
// family. The agent serves its own guest this way; the exporter's direct writer must agree with
// it (a test compares the two).
std::string render_text(const std::vector<LabelledGuest>& guests);

}  // namespace xenballoon::metrics
