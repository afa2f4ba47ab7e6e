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

#include "xenballoon/publish/guest_stats.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::publish {

// Relative to the guest's home /local/domain/<domid>; libxl makes data/ writable by the guest.
inline constexpr std::string_view kDir = xenstore::keys::kAgentDir;
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

// key -> value, every value below kMaxValueBytes. Lists that do not fit are cut at a whole line
// and `truncated` names them. Plain value.
struct Encoded {
  std::map<std::string, std::string> values;
  std::vector<std::string> truncated;
};
// The agent's keys for one publication: layout, agent, heartbeat, mode, policy, the balloon
// figures (empty when unknown), meminfo and vmstat (known fields first, then the others), uptime
// and pressure when read. dom0's figures and `selfballoon` are not published.
Encoded encode(const GuestStats& stats);

// Decodes one key's value into `out`. Guest data is hostile: anything malformed, oversized,
// unknown or out of range is refused with a short reason (a metric label) and clears what `out`
// held for that key, so that bad data never leaves old values looking current. Only the fields
// the vocabulary knows survive. Returns the reason, or nullopt when the value was taken.
std::optional<std::string> decode_value(std::string_view key, std::string_view value,
                                        GuestStats* out);

// The 2008 xenballoond's keys under memory/ (written when legacy_paths is on).
namespace legacy {
inline constexpr std::string_view kMeminfo = xenstore::keys::kLegacyMeminfo;
inline constexpr std::string_view kVmstat = xenstore::keys::kLegacyVmstat;
inline constexpr std::string_view kUptime = xenstore::keys::kLegacyUptime;
inline constexpr std::string_view kSelftarget = xenstore::keys::kLegacySelftarget;
}  // namespace legacy

}  // namespace xenballoon::publish
