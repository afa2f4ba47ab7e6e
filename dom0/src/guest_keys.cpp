#include "xenballoon/dom0/guest_keys.h"

#include <algorithm>

#include "xenballoon/publish/layout.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::dom0 {
namespace {

constexpr std::string_view kAgentPrefix = "data/xenballoon/";

}  // namespace

const std::vector<std::string_view>& agent_keys() {
  namespace k = publish::key;
  static const std::vector<std::string_view> keys = {
      k::kLayout,   k::kAgent,      k::kHeartbeat, k::kMode,   k::kPolicy, k::kTargetKib,
      k::kFloorKib, k::kCurrentKib, k::kMeminfo,   k::kVmstat, k::kUptime, k::kPressure};
  return keys;
}

GuestKey classify_key(std::string_view key) {
  if (key == "name") return GuestKey::kName;
  if (key == "vm") return GuestKey::kVm;
  if (key == "memory/target") return GuestKey::kDom0Target;
  if (key == "memory/static-max") return GuestKey::kStaticMax;
  if (key == publish::legacy::kMeminfo) return GuestKey::kLegacyMeminfo;
  if (key == publish::legacy::kVmstat) return GuestKey::kLegacyVmstat;
  if (key == publish::legacy::kUptime) return GuestKey::kLegacyUptime;
  if (key == publish::legacy::kSelftarget) return GuestKey::kLegacySelftarget;
  if (key == "data/meminfo_total") return GuestKey::kXenServerTotal;
  if (key == "data/meminfo_free") return GuestKey::kXenServerFree;
  if (key.substr(0, kAgentPrefix.size()) == kAgentPrefix) {
    std::string_view name = key.substr(kAgentPrefix.size());
    const auto& known = agent_keys();
    bool is_known = std::find(known.begin(), known.end(), name) != known.end();
    return is_known ? GuestKey::kAgentValue : GuestKey::kAgentUnknown;
  }
  return GuestKey::kOther;
}

bool is_guest_published(GuestKey key) {
  switch (key) {
    case GuestKey::kAgentValue:
    case GuestKey::kLegacyMeminfo:
    case GuestKey::kLegacyVmstat:
    case GuestKey::kLegacyUptime:
    case GuestKey::kLegacySelftarget:
    case GuestKey::kXenServerTotal:
    case GuestKey::kXenServerFree:
      return true;
    default:
      return false;
  }
}

GuestDir classify_dir(std::string_view key) {
  if (key.empty()) return GuestDir::kHome;
  if (key == "memory") return GuestDir::kMemory;
  if (key == "data") return GuestDir::kData;
  if (key == "data/xenballoon") return GuestDir::kAgentDir;
  return GuestDir::kNone;
}

std::optional<std::uint32_t> parse_domid(std::string_view name) {
  if (name.empty() || name.size() > 5 || (name.size() > 1 && name[0] == '0')) return std::nullopt;
  auto value = parse_u64(name);
  if (!value || *value >= kFirstReservedDomid) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

std::optional<DomainPath> parse_domain_path(std::string_view path) {
  if (path.substr(0, kDomainsRoot.size()) != kDomainsRoot) return std::nullopt;
  path.remove_prefix(kDomainsRoot.size());
  if (path.empty() || path[0] != '/') return std::nullopt;
  path.remove_prefix(1);
  auto slash = path.find('/');
  auto domid = parse_domid(path.substr(0, slash));
  if (!domid) return std::nullopt;
  if (slash == std::string_view::npos) return DomainPath{*domid, {}};
  return DomainPath{*domid, path.substr(slash + 1)};
}

std::string domain_home(std::uint32_t domid) {
  return std::string(kDomainsRoot) + "/" + std::to_string(domid);
}

}  // namespace xenballoon::dom0
