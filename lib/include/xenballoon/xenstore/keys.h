// Every xenstore path the project reads or writes: the domain home, what dom0 writes under
// memory/, dom0's live overrides with their ranges, the agent's data/xenballoon/ directory, the
// 2008 daemon's and XenServer's keys. Paths are relative to the domain home unless they start with
// '/'. docs/xenstore-layout.md describes each. Thread-safe (constants and pure functions).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xenballoon::xenstore::keys {

// /local/domain/<domid> is a domain's home.
inline constexpr std::string_view kDomainsRoot = "/local/domain";
// Domain ids from DOMID_FIRST_RESERVED up are not domains.
inline constexpr std::uint32_t kFirstReservedDomid = 0x7FF0;
// "/local/domain/<domid>".
std::string domain_home(std::uint32_t domid);
// "/local/domain/<domid>/<relative>".
std::string domain_path(std::uint32_t domid, std::string_view relative);

// Written by the toolstack (libxl), read-only for the guest.
inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kDomid = "domid";
inline constexpr std::string_view kVm = "vm";  // "/vm/<uuid>"
inline constexpr std::string_view kMemoryDir = "memory";
inline constexpr std::string_view kTarget = "memory/target";         // KiB
inline constexpr std::string_view kStaticMax = "memory/static-max";  // KiB
inline constexpr std::string_view kVideoRam = "memory/videoram";     // KiB, -1 for PV
// A guest may write below data/ (libxl makes it writable for the guest).
inline constexpr std::string_view kDataDir = "data";
inline constexpr std::string_view kControlDir = "control";
// The agent's own layout (publish/layout.h names the keys below it).
inline constexpr std::string_view kAgentDir = "data/xenballoon";
inline constexpr std::string_view kAgentPrefix = "data/xenballoon/";
// XenServer's guest tools.
inline constexpr std::string_view kXenServerMeminfoTotal = "data/meminfo_total";  // KiB
inline constexpr std::string_view kXenServerMeminfoFree = "data/meminfo_free";    // KiB
// The 2008 xenballoond's keys (written by our agent when legacy_paths is on).
inline constexpr std::string_view kLegacyMeminfo = "memory/meminfo";
inline constexpr std::string_view kLegacyVmstat = "memory/vmstat";
inline constexpr std::string_view kLegacyUptime = "memory/uptime";
inline constexpr std::string_view kLegacySelftarget = "memory/selftarget";

// Limits shared by the agent's configuration keys and dom0's overrides of them.
inline constexpr std::uint64_t kMaxIntervalSeconds = 3600;
inline constexpr std::uint64_t kMaxHysteresis = 1000;
inline constexpr std::uint64_t kMinMinmemMib = 16;
inline constexpr std::uint64_t kMaxSizeMib = 1 << 20;  // 1 TiB, for minmem, reserve and headroom

// Values dom0 may write live under the guest's memory/ to override the agent's settings.
enum class Override { kSelfballoon, kInterval, kUphysteresis, kDownhysteresis, kMinmem };
inline constexpr std::size_t kOverrideCount = 5;

// One override: its key and the values it accepts (zero_allowed: 0 is accepted besides
// [min, max], meaning "derive", for minmem). Plain value.
struct OverrideSpec {
  Override which;
  std::string_view name;  // the key below memory/
  std::string_view path;  // relative to the domain home
  std::uint64_t min, max;
  bool zero_allowed;
  std::string_view unit;  // for messages: "seconds", "MiB" or ""
};
const std::array<OverrideSpec, kOverrideCount>& overrides();
const OverrideSpec& spec(Override which);
// The override a key below memory/ ("interval") names, if any.
std::optional<Override> parse_override(std::string_view name);
// nullopt when `value` is in range, else the rule it breaks ("must be 1..3600 seconds").
std::optional<std::string> check_override(Override which, std::uint64_t value);

}  // namespace xenballoon::xenstore::keys
