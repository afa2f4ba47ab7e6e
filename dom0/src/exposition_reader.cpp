#include "xenballoon/dom0/exposition_reader.h"

#include <map>
#include <unordered_map>

#include "xenballoon/dom0/guest_keys.h"
#include "xenballoon/dom0/label_text.h"
#include "xenballoon/metrics/guest_families.h"
#include "xenballoon/publish/layout.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::dom0 {
namespace {

// What a family name means to the reader: a known meminfo field or vmstat counter (by index),
// one of metrics::guest_families(), the exporter's last update, or a host figure.
enum class Field { kMeminfo, kVmstat, kGuest, kLastUpdate, kHostTotal, kHostFree };

struct FieldRef {
  Field field;
  std::size_t index = 0;  // into the known meminfo fields or vmstat counters
  const metrics::GuestFamily* guest = nullptr;
};

const std::unordered_map<std::string, FieldRef>& families() {
  static const auto table = [] {
    std::unordered_map<std::string, FieldRef> t;
    const auto& meminfo = metrics::meminfo_family_names();
    for (std::size_t i = 0; i < meminfo.size(); ++i) t[meminfo[i]] = {Field::kMeminfo, i};
    const auto& vmstat = metrics::vmstat_family_names();
    for (std::size_t i = 0; i < vmstat.size(); ++i) t[vmstat[i]] = {Field::kVmstat, i};
    for (const metrics::GuestFamily& family : metrics::guest_families()) {
      t[std::string(family.family->name)] = {Field::kGuest, 0, &family};
    }
    t[std::string(metrics::kLastUpdate.name)] = {Field::kLastUpdate};
    t[std::string(metrics::kHostMemoryTotal.name)] = {Field::kHostTotal};
    t[std::string(metrics::kHostMemoryFree.name)] = {Field::kHostFree};
    return t;
  }();
  return table;
}

// Label values as they stand in the text (still escaped); unescaped only when used.
struct RawLabels {
  std::string_view domid, domain, uuid, version, policy, mode;
};

std::string unescape(std::string_view raw) {
  std::string value;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      ++i;
      value.push_back(raw[i] == 'n' ? '\n' : raw[i]);
    } else {
      value.push_back(raw[i]);
    }
  }
  return to_valid_utf8(value);
}

// `name="value",...}` after the '{', consumed from `rest`. False when malformed.
bool parse_labels(std::string_view& rest, RawLabels* out) {
  while (!rest.empty() && rest[0] != '}') {
    auto eq = rest.find("=\"");
    if (eq == std::string_view::npos) return false;
    std::string_view name = rest.substr(0, eq);
    rest.remove_prefix(eq + 2);
    std::size_t end = 0;
    while (end < rest.size() && rest[end] != '"') end += rest[end] == '\\' ? 2 : 1;
    if (end >= rest.size()) return false;
    std::string_view value = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (!rest.empty() && rest[0] == ',') rest.remove_prefix(1);
    if (name == "domid") out->domid = value;
    if (name == "domain") out->domain = value;
    if (name == "uuid") out->uuid = value;
    if (name == "version") out->version = value;
    if (name == "policy") out->policy = value;
    if (name == "mode") out->mode = value;
  }
  if (rest.empty()) return false;
  rest.remove_prefix(1);  // '}'
  return true;
}

std::optional<std::uint64_t> as_u64(double value) {
  if (!(value >= 0) || value > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

void assign(GuestView& v, const FieldRef& ref, double value, const RawLabels& labels) {
  switch (ref.field) {
    case Field::kMeminfo:
      if (auto number = as_u64(value)) {
        v.stats.meminfo_kib.known[ref.index] = metrics::meminfo_stats_value(ref.index, *number);
      } else {
        v.stats.meminfo_kib.known[ref.index].reset();
      }
      break;
    case Field::kVmstat:
      v.stats.vmstat.known[ref.index] = as_u64(value);
      break;
    case Field::kGuest:
      if (ref.guest->agent_info) {
        metrics::assign_agent_info(v.stats, unescape(labels.version), unescape(labels.policy),
                                   unescape(labels.mode));
      } else {
        ref.guest->assign(v.stats, value);
      }
      break;
    case Field::kLastUpdate:
      v.last_update_unix_seconds = value;
      break;
    case Field::kHostTotal:
    case Field::kHostFree:
      break;
  }
}

}  // namespace

ExpositionContent parse_exposition(std::string_view text) {
  const auto& table = families();
  std::map<std::uint32_t, GuestView> guests;
  ExpositionContent content;
  HostMemory host;
  bool host_total = false, host_free = false;
  // Series of one family stand together: look the name up once per family, not per line.
  std::string_view last_name;
  const FieldRef* last_ref = nullptr;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line.empty() || line[0] == '#') continue;
    auto name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    std::string_view name = line.substr(0, name_end);
    if (name != last_name) {
      auto found = table.find(std::string(name));
      last_name = name;
      last_ref = found == table.end() ? nullptr : &found->second;
    }
    if (!last_ref) continue;
    const FieldRef& ref = *last_ref;
    std::string_view rest = line.substr(name_end);
    RawLabels labels;
    if (rest[0] == '{') {
      rest.remove_prefix(1);
      if (!parse_labels(rest, &labels)) continue;
    }
    rest = trim(rest);
    auto value = parse_double(rest.substr(0, rest.find(' ')));
    if (!value) continue;
    if (ref.field == Field::kHostTotal || ref.field == Field::kHostFree) {
      auto bytes = as_u64(*value);
      if (!bytes) continue;
      (ref.field == Field::kHostTotal ? host.total_bytes : host.free_bytes) = *bytes;
      (ref.field == Field::kHostTotal ? host_total : host_free) = true;
      continue;
    }
    auto domid = parse_domid(labels.domid);
    if (!domid) continue;
    auto [it, inserted] = guests.try_emplace(*domid);
    GuestView& v = it->second;
    if (inserted) {
      v.domid = *domid;
      v.name = unescape(labels.domain);
      v.uuid = unescape(labels.uuid);
    }
    assign(v, ref, *value, labels);
  }
  for (auto& [domid, view] : guests) {
    const publish::GuestStats& stats = view.stats;
    view.source = (stats.agent || stats.heartbeat_unix_seconds) ? StatsSource::kAgent
                  : stats.has_statistics()                      ? StatsSource::kUnnamed
                                                                : StatsSource::kNone;
    content.guests.push_back(std::move(view));
  }
  if (host_total && host_free) content.host = host;
  return content;
}

}  // namespace xenballoon::dom0
