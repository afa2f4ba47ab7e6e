// The data/xenballoon/ layout in xenstore: what the agent publishes and the exporter reads.
// Encoder and decoder live together so they cannot drift apart (docs/xenstore-layout.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xenballoon::publish {

// Relative to the guest's home /local/domain/<domid>; libxl makes data/ writable by the guest.
inline constexpr std::string_view kDir = "data/xenballoon";
inline constexpr int kLayoutVersion = 1;
// C xenstored refuses records of 2048 bytes or more, counting a 24-byte header and 8 bytes per
// permission; every value we write stays below this.
inline constexpr std::size_t kMaxValueBytes = 1900;

// Keys under kDir.
namespace key {
inline constexpr std::string_view kLayout = "layout";
inline constexpr std::string_view kAgent = "agent";
inline constexpr std::string_view kHeartbeat = "heartbeat";
inline constexpr std::string_view kMode = "mode";
inline constexpr std::string_view kPolicy = "policy";
inline constexpr std::string_view kTargetKib = "target-kb";
inline constexpr std::string_view kFloorKib = "floor-kb";
inline constexpr std::string_view kCurrentKib = "current-kb";
inline constexpr std::string_view kMeminfo = "meminfo";
inline constexpr std::string_view kVmstat = "vmstat";
inline constexpr std::string_view kUptime = "uptime";
inline constexpr std::string_view kPressure = "pressure";
}  // namespace key

// What one publication carries. Plain value; not synchronized.
struct Snapshot {
  std::string agent;  // "xenballoond 0.1.0"
  std::int64_t heartbeat_unix_seconds = 0;
  std::string mode;    // selfballoon | directed | dry-run
  std::string policy;  // pressure | classic
  std::optional<std::uint64_t> target_kib;
  std::optional<std::uint64_t> floor_kib;
  std::optional<std::uint64_t> current_kib;
  std::vector<std::pair<std::string, std::uint64_t>> meminfo_kib;  // kB fields as KiB, counts as is
  std::vector<std::pair<std::string, std::uint64_t>> vmstat;
  std::optional<std::pair<double, double>> uptime;  // uptime, idle seconds
  struct Psi {
    double avg10 = 0, avg60 = 0, avg300 = 0;
    std::uint64_t total_us = 0;
  };
  std::optional<Psi> psi_some;
  std::optional<Psi> psi_full;
};

// key -> value, every value below kMaxValueBytes. Lists that do not fit are cut at a whole line
// and `truncated` names them.
struct Encoded {
  std::map<std::string, std::string> values;
  std::vector<std::string> truncated;
};
Encoded encode(const Snapshot& snapshot);

// What the exporter keeps of one guest's publication. Only known fields survive decoding.
struct Decoded {
  std::optional<int> layout;
  std::optional<std::string> agent;
  std::optional<std::int64_t> heartbeat_unix_seconds;
  std::optional<std::string> mode;
  std::optional<std::string> policy;
  std::optional<std::uint64_t> target_kib, floor_kib, current_kib;
  std::map<std::string, std::uint64_t> meminfo_kib;  // known field names only
  std::map<std::string, std::uint64_t> vmstat;       // known counter names only
  std::optional<std::pair<double, double>> uptime;
  std::optional<Snapshot::Psi> psi_some, psi_full;
};

// Decodes one key's value into `out`. Guest data is hostile: anything malformed, oversized,
// unknown or out of range is refused with a short reason (a metric label) and clears what `out`
// held for that key, so that bad data never leaves old values looking current. Returns the
// reason, or nullopt when the value was taken.
std::optional<std::string> decode_value(std::string_view key, std::string_view value, Decoded* out);

// The field names the vocabulary knows (docs/metrics.md). Names as in /proc.
const std::vector<std::string>& known_meminfo_fields();
const std::vector<std::string>& known_vmstat_counters();
bool is_known_meminfo_field(std::string_view name);
bool is_known_vmstat_counter(std::string_view name);

// The 2008 xenballoond's keys under memory/ (written when legacy_paths is on).
namespace legacy {
inline constexpr std::string_view kMeminfo = "memory/meminfo";
inline constexpr std::string_view kVmstat = "memory/vmstat";
inline constexpr std::string_view kUptime = "memory/uptime";
inline constexpr std::string_view kSelftarget = "memory/selftarget";
}  // namespace legacy

}  // namespace xenballoon::publish
