#include "xenballoon/dom0/guest_record.h"

#include <algorithm>

#include "xenballoon/dom0/label_text.h"
#include "xenballoon/dom0/legacy_formats.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::dom0 {
namespace {

using xenstore::keys::kAgentPrefix;

template <typename T>
const std::optional<T>& first_of(const std::optional<T>& a, const std::optional<T>& b) {
  return a ? a : b;
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
      legacy_.uptime_seconds.reset();
      legacy_.idle_seconds.reset();
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
  publish::GuestStats& m = v.stats;
  m = agent_;
  for (std::size_t i = 0; i < m.meminfo_kib.known.size(); ++i) {
    auto& kib = m.meminfo_kib.known[i];
    if (!kib) kib = legacy_.meminfo_kib.known[i];
  }
  auto& memtotal = m.meminfo_kib.known[*publish::meminfo_index("MemTotal")];
  auto& memfree = m.meminfo_kib.known[*publish::meminfo_index("MemFree")];
  if (!memtotal) memtotal = xenserver_total_kib_;
  if (!memfree) memfree = xenserver_free_kib_;
  for (std::size_t i = 0; i < m.vmstat.known.size(); ++i) {
    auto& value = m.vmstat.known[i];
    if (!value) value = legacy_.vmstat.known[i];
  }
  if (!m.uptime_seconds) {
    m.uptime_seconds = legacy_.uptime_seconds;
    m.idle_seconds = legacy_.idle_seconds;
  }
  m.target_kib = first_of(agent_.target_kib, legacy_.target_kib);
  m.static_max_kib = static_max_kib_;
  m.dom0_target_kib = dom0_target_kib_;

  bool legacy_fields = !legacy_.meminfo_kib.empty() || !legacy_.vmstat.empty() ||
                       legacy_.uptime_seconds || legacy_.target_kib;
  v.source = agent_.has_published_values()                   ? StatsSource::kAgent
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
