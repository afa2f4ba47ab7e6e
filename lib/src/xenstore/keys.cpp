#include "xenballoon/xenstore/keys.h"

namespace xenballoon::xenstore::keys {

std::string domain_home(std::uint32_t domid) {
  return std::string(kDomainsRoot) + "/" + std::to_string(domid);
}

std::string domain_path(std::uint32_t domid, std::string_view relative) {
  return domain_home(domid) + "/" + std::string(relative);
}

const std::array<OverrideSpec, kOverrideCount>& overrides() {
  static const std::array<OverrideSpec, kOverrideCount> table = {{
      {Override::kSelfballoon, "selfballoon", "memory/selfballoon", 0, 1, false, ""},
      {Override::kInterval, "interval", "memory/interval", 1, kMaxIntervalSeconds, false,
       "seconds"},
      {Override::kUphysteresis, "uphysteresis", "memory/uphysteresis", 0, kMaxHysteresis, false,
       ""},
      {Override::kDownhysteresis, "downhysteresis", "memory/downhysteresis", 0, kMaxHysteresis,
       false, ""},
      {Override::kMinmem, "minmem", "memory/minmem", kMinMinmemMib, kMaxSizeMib, true, "MiB"},
  }};
  return table;
}

const OverrideSpec& spec(Override which) {
  return overrides()[static_cast<std::size_t>(which)];
}

std::optional<Override> parse_override(std::string_view name) {
  for (const OverrideSpec& s : overrides()) {
    if (s.name == name) return s.which;
  }
  return std::nullopt;
}

std::optional<std::string> check_override(Override which, std::uint64_t value) {
  const OverrideSpec& s = spec(which);
  if ((value >= s.min && value <= s.max) || (s.zero_allowed && value == 0)) return std::nullopt;
  if (s.min == 0 && s.max == 1) return std::string("must be 0 or 1");
  std::string rule = "must be ";
  if (s.zero_allowed) rule += "0 or ";
  rule += std::to_string(s.min) + ".." + std::to_string(s.max);
  if (!s.unit.empty()) rule += " " + std::string(s.unit);
  return rule;
}

}  // namespace xenballoon::xenstore::keys
