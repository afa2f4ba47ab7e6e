// The xenstore keys the dom0 side reads in a domain's home, and how a watch event's path maps onto
// them. Parsing only, no I/O. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xenballoon::dom0 {

inline constexpr std::string_view kDomainsRoot = "/local/domain";
// Domain ids from DOMID_FIRST_RESERVED up are not domains.
inline constexpr std::uint32_t kFirstReservedDomid = 0x7FF0;

enum class GuestKey {
  kName,              // name (dom0)
  kVm,                // vm = /vm/<uuid> (dom0)
  kDom0Target,        // memory/target (dom0)
  kStaticMax,         // memory/static-max (dom0)
  kAgentValue,        // data/xenballoon/<known key> (our agent)
  kAgentUnknown,      // anything else below data/xenballoon/
  kLegacyMeminfo,     // memory/meminfo (the 2008 daemon)
  kLegacyVmstat,      // memory/vmstat
  kLegacyUptime,      // memory/uptime
  kLegacySelftarget,  // memory/selftarget
  kXenServerTotal,    // data/meminfo_total (XenServer guest tools)
  kXenServerFree,     // data/meminfo_free
  kOther,             // not read
};

// What a relative key (below /local/domain/<domid>/) is.
GuestKey classify_key(std::string_view relative_key);

// True for keys a guest writes (its statistics); false for dom0's own keys.
bool is_guest_published(GuestKey key);

// The directories on the way to the keys above: an event on one of them (a subtree removed or
// created) means re-reading what lies below.
enum class GuestDir { kHome, kMemory, kData, kAgentDir, kNone };
GuestDir classify_dir(std::string_view relative_key);

// The keys of the agent's layout (publish::key), in a stable order.
const std::vector<std::string_view>& agent_keys();

// "/local/domain/<domid>[/<relative>]". Anything else (the root itself, a non-numeric or
// reserved id) is nullopt. `relative` is "" for the domain node itself.
// Plain value; `relative` points into the parsed path.
struct DomainPath {
  std::uint32_t domid = 0;
  std::string_view relative;
};
std::optional<DomainPath> parse_domain_path(std::string_view path);

// A child name of /local/domain as a domid.
std::optional<std::uint32_t> parse_domid(std::string_view name);

std::string domain_home(std::uint32_t domid);

}  // namespace xenballoon::dom0
