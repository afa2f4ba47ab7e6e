#include "xenballoon/dom0/guest_record.h"

#include <algorithm>

#include "xenballoon/dom0/label_text.h"
#include "xenballoon/dom0/legacy_formats.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::dom0 {
namespace {

constexpr std::string_view kAgentPrefix = "data/xenballoon/";
constexpr std::string_view kAgentName = "xenballoond ";

std::optional<std::uint64_t> kib_to_bytes(const std::optional<std::uint64_t>& kib) {
  if (!kib) return std::nullopt;
  return *kib * 1024;
}

template <typename T>
const std::optional<T>& first_of(const std::optional<T>& a, const std::optional<T>& b) {
  return a ? a : b;
}

std::optional<std::uint64_t> lookup(const std::map<std::string, std::uint64_t>& map,
                                    const std::string& name) {
  auto it = map.find(name);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

std::size_t index_of(const std::vector<std::string>& names, std::string_view name) {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

}  // namespace

std::string_view to_string(StatsSource source) {
  switch (source) {
    case StatsSource::kAgent:
      return "agent";
    case StatsSource::kLegacy:
      return "2008";
    case StatsSource::kXenServer:
      return "xs-tools";
    case StatsSource::kUnnamed:
      return "stats";
    case StatsSource::kNone:
      break;
  }
  return "none";
}

bool is_unitless_meminfo_field(std::string_view field) {
  return field.substr(0, 10) == "HugePages_";
}

std::optional<std::uint64_t> GuestView::meminfo_bytes(std::string_view field) const {
  std::size_t i = index_of(publish::known_meminfo_fields(), field);
  return i < meminfo.size() ? meminfo[i] : std::nullopt;
}

std::optional<std::uint64_t> GuestView::vmstat_value(std::string_view counter) const {
  std::size_t i = index_of(publish::known_vmstat_counters(), counter);
  return i < vmstat.size() ? vmstat[i] : std::nullopt;
}

GuestRecord::GuestRecord(std::uint32_t domid) {
  view_.domid = domid;
  rebuild_view();
}

std::optional<std::string> GuestRecord::apply(std::string_view key,
                                              const std::optional<std::string>& value, double now) {
  GuestKey kind = classify_key(key);
  if (kind == GuestKey::kOther) return std::nullopt;
  if (kind == GuestKey::kAgentUnknown) return "unknown_key";
  std::optional<std::string> refused;
  if (value) {
    refused = apply_value(kind, key, *value);
  } else {
    clear(kind, key);
  }
  if (is_guest_published(kind)) view_.last_update_unix_seconds = now;
  rebuild_view();
  return refused;
}

std::optional<std::string> GuestRecord::apply_value(GuestKey kind, std::string_view key,
                                                    std::string_view value) {
  namespace k = publish::key;
  switch (kind) {
    case GuestKey::kName:
      view_.name = to_valid_utf8(value);
      return std::nullopt;
    case GuestKey::kVm:
      view_.uuid = uuid_from_vm_path(value);
      return std::nullopt;
    case GuestKey::kDom0Target:
      return decode_kib_value(value, &dom0_target_kib_);
    case GuestKey::kStaticMax:
      return decode_kib_value(value, &static_max_kib_);
    case GuestKey::kAgentValue:
      return publish::decode_value(key.substr(kAgentPrefix.size()), value, &agent_);
    case GuestKey::kLegacyMeminfo: {
      std::string lines;
      if (auto refused = legacy_meminfo_to_layout(value, &lines)) {
        legacy_.meminfo_kib.clear();
        return refused;
      }
      return publish::decode_value(k::kMeminfo, lines, &legacy_);
    }
    case GuestKey::kLegacyVmstat:
      return publish::decode_value(k::kVmstat, value, &legacy_);
    case GuestKey::kLegacyUptime:
      return publish::decode_value(k::kUptime, value, &legacy_);
    case GuestKey::kLegacySelftarget:
      return publish::decode_value(k::kTargetKib, trim(value), &legacy_);
    case GuestKey::kXenServerTotal:
      return decode_kib_value(value, &xenserver_total_kib_);
    case GuestKey::kXenServerFree:
      return decode_kib_value(value, &xenserver_free_kib_);
    case GuestKey::kAgentUnknown:
    case GuestKey::kOther:
      break;
  }
  return std::nullopt;
}

void GuestRecord::clear(GuestKey kind, std::string_view key) {
  // Decoding an empty value clears the key's fields; the refusal it may give is not an error here.
  switch (kind) {
    case GuestKey::kName:
      view_.name.clear();
      break;
    case GuestKey::kVm:
      view_.uuid.clear();
      break;
    case GuestKey::kDom0Target:
      dom0_target_kib_.reset();
      break;
    case GuestKey::kStaticMax:
      static_max_kib_.reset();
      break;
    case GuestKey::kAgentValue:
      (void)publish::decode_value(key.substr(kAgentPrefix.size()), "", &agent_);
      break;
    case GuestKey::kLegacyMeminfo:
      legacy_.meminfo_kib.clear();
      break;
    case GuestKey::kLegacyVmstat:
      legacy_.vmstat.clear();
      break;
    case GuestKey::kLegacyUptime:
      legacy_.uptime.reset();
      break;
    case GuestKey::kLegacySelftarget:
      legacy_.target_kib.reset();
      break;
    case GuestKey::kXenServerTotal:
      xenserver_total_kib_.reset();
      break;
    case GuestKey::kXenServerFree:
      xenserver_free_kib_.reset();
      break;
    case GuestKey::kAgentUnknown:
    case GuestKey::kOther:
      break;
  }
}

void GuestRecord::rebuild_view() {
  GuestView& v = view_;
  const auto& fields = publish::known_meminfo_fields();
  v.meminfo.assign(fields.size(), std::nullopt);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto kib = lookup(agent_.meminfo_kib, fields[i]);
    if (!kib) kib = lookup(legacy_.meminfo_kib, fields[i]);
    if (!kib && fields[i] == "MemTotal") kib = xenserver_total_kib_;
    if (!kib && fields[i] == "MemFree") kib = xenserver_free_kib_;
    if (kib) v.meminfo[i] = is_unitless_meminfo_field(fields[i]) ? *kib : *kib * 1024;
  }
  const auto& counters = publish::known_vmstat_counters();
  v.vmstat.assign(counters.size(), std::nullopt);
  for (std::size_t i = 0; i < counters.size(); ++i) {
    auto value = lookup(agent_.vmstat, counters[i]);
    v.vmstat[i] = value ? value : lookup(legacy_.vmstat, counters[i]);
  }
  const auto& uptime = first_of(agent_.uptime, legacy_.uptime);
  v.uptime_seconds = uptime ? std::optional<double>(uptime->first) : std::nullopt;
  v.psi_some_avg10 = v.psi_full_avg10 = std::nullopt;
  v.psi_some_total_us = v.psi_full_total_us = std::nullopt;
  if (agent_.psi_some) {
    v.psi_some_avg10 = agent_.psi_some->avg10;
    v.psi_some_total_us = agent_.psi_some->total_us;
  }
  if (agent_.psi_full) {
    v.psi_full_avg10 = agent_.psi_full->avg10;
    v.psi_full_total_us = agent_.psi_full->total_us;
  }
  v.balloon_target_bytes = kib_to_bytes(first_of(agent_.target_kib, legacy_.target_kib));
  v.balloon_current_bytes = kib_to_bytes(agent_.current_kib);
  v.balloon_floor_bytes = kib_to_bytes(agent_.floor_kib);
  v.static_max_bytes = kib_to_bytes(static_max_kib_);
  v.dom0_target_bytes = kib_to_bytes(dom0_target_kib_);
  v.selfballoon.reset();
  if (agent_.mode == "selfballoon") v.selfballoon = true;
  if (agent_.mode == "directed") v.selfballoon = false;
  v.agent.reset();
  if (agent_.layout && agent_.agent) {
    std::string version = *agent_.agent;
    if (version.substr(0, kAgentName.size()) == kAgentName) version.erase(0, kAgentName.size());
    v.agent = AgentInfo{version, agent_.policy.value_or(""), agent_.mode.value_or("")};
  }
  v.heartbeat_unix_seconds.reset();
  if (agent_.heartbeat_unix_seconds) {
    v.heartbeat_unix_seconds = static_cast<double>(*agent_.heartbeat_unix_seconds);
  }

  bool agent_fields = agent_.layout || agent_.agent || agent_.heartbeat_unix_seconds ||
                      agent_.mode || agent_.policy || agent_.target_kib || agent_.floor_kib ||
                      agent_.current_kib || !agent_.meminfo_kib.empty() || !agent_.vmstat.empty() ||
                      agent_.uptime || agent_.psi_some;
  bool legacy_fields = !legacy_.meminfo_kib.empty() || !legacy_.vmstat.empty() || legacy_.uptime ||
                       legacy_.target_kib;
  v.source = agent_fields                                    ? StatsSource::kAgent
             : legacy_fields                                 ? StatsSource::kLegacy
             : (xenserver_total_kib_ || xenserver_free_kib_) ? StatsSource::kXenServer
                                                             : StatsSource::kNone;

  label_text_ = "domid=\"" + std::to_string(v.domid) + "\",domain=\"";
  append_label_value(label_text_, v.name);
  label_text_ += "\",uuid=\"";
  append_label_value(label_text_, v.uuid);
  label_text_ += "\"";
}

}  // namespace xenballoon::dom0
