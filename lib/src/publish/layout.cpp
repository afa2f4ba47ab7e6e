#include "xenballoon/publish/layout.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "xenballoon/procfs/pressure.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::publish {
namespace {

// Nothing a guest reports in KiB can honestly exceed 2^44 KiB (16 PiB).
constexpr std::uint64_t kMaxKib = std::uint64_t{1} << 44;
constexpr std::size_t kMaxLines = 256;
constexpr std::size_t kMaxTextBytes = 64;

// Appends "name value\n" lines while they fit below kMaxValueBytes: the known values in the
// vocabulary's order, then the others.
template <std::size_t N>
std::string encode_values(const ProcValues<N>& values, const std::array<std::string_view, N>& names,
                          bool* truncated) {
  std::string out;
  auto append = [&](std::string_view name, std::uint64_t value) {
    if (*truncated) return;
    std::string line = std::string(name) + " " + std::to_string(value) + "\n";
    if (out.size() + line.size() > kMaxValueBytes) {
      *truncated = true;
      return;
    }
    out += line;
  };
  for (std::size_t i = 0; i < N; ++i) {
    if (values.known[i]) append(names[i], *values.known[i]);
  }
  for (const auto& [name, value] : values.other) append(name, value);
  return out;
}

std::string format_psi(const char* kind, const Psi& psi) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s avg10=%.2f avg60=%.2f avg300=%.2f total=%" PRIu64 "\n", kind,
                psi.avg10, psi.avg60, psi.avg300, psi.total_us);
  return buf;
}

bool printable_token(std::string_view text) {
  if (text.empty() || text.size() > kMaxTextBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '.' || c == '-' || c == '_' || c == '+';
  });
}

// "name value" lines; names the vocabulary lacks are skipped (newer agents).
template <std::size_t N>
std::optional<std::string> decode_values(std::string_view value,
                                         std::optional<std::size_t> (*index_of)(std::string_view),
                                         std::uint64_t max_value, ProcValues<N>* out) {
  ProcValues<N> result;
  std::size_t lines = 0;
  while (!value.empty()) {
    auto eol = value.find('\n');
    std::string_view line = value.substr(0, eol);
    value = eol == std::string_view::npos ? std::string_view{} : value.substr(eol + 1);
    if (line.empty()) continue;
    if (++lines > kMaxLines) return "too_many_lines";
    auto space = line.find(' ');
    if (space == std::string_view::npos) return "malformed";
    std::string_view name = line.substr(0, space);
    auto number = parse_u64(line.substr(space + 1));
    if (!number) return "malformed";
    if (*number > max_value) return "out_of_range";
    auto index = index_of(name);
    if (!index) continue;
    if (result.known[*index]) return "duplicate";
    result.known[*index] = *number;
  }
  *out = std::move(result);
  return std::nullopt;
}

std::optional<std::uint64_t> bounded_u64(std::string_view text, std::uint64_t max) {
  auto value = parse_u64(text);
  if (!value || *value > max) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::size_t> meminfo_index(std::string_view field) {
  auto it = std::find(kMeminfoFields.begin(), kMeminfoFields.end(), field);
  if (it == kMeminfoFields.end()) return std::nullopt;
  return static_cast<std::size_t>(it - kMeminfoFields.begin());
}

std::optional<std::size_t> vmstat_index(std::string_view counter) {
  auto it = std::find(kVmstatCounters.begin(), kVmstatCounters.end(), counter);
  if (it == kVmstatCounters.end()) return std::nullopt;
  return static_cast<std::size_t>(it - kVmstatCounters.begin());
}

bool is_unitless_meminfo_field(std::string_view field) {
  return field.substr(0, 10) == "HugePages_";
}

std::optional<std::uint64_t> GuestStats::meminfo(std::string_view field) const {
  auto i = meminfo_index(field);
  return i ? meminfo_kib.known[*i] : std::nullopt;
}

std::optional<std::uint64_t> GuestStats::meminfo_bytes(std::string_view field) const {
  auto value = meminfo(field);
  if (!value || is_unitless_meminfo_field(field)) return value;
  return *value * 1024;
}

std::optional<std::uint64_t> GuestStats::vmstat_value(std::string_view counter) const {
  auto i = vmstat_index(counter);
  return i ? vmstat.known[*i] : std::nullopt;
}

std::optional<AgentInfo> GuestStats::agent_info() const {
  if (!layout || !agent) return std::nullopt;
  std::string version = *agent;
  if (version.substr(0, kAgentName.size()) == kAgentName) version.erase(0, kAgentName.size());
  return AgentInfo{version, policy.value_or(""), mode.value_or("")};
}

bool GuestStats::has_published_values() const {
  return layout || agent || heartbeat_unix_seconds || mode || policy || target_kib || floor_kib ||
         current_kib || !meminfo_kib.empty() || !vmstat.empty() || uptime_seconds || psi_some;
}

bool GuestStats::has_statistics() const {
  return !meminfo_kib.empty() || !vmstat.empty() || uptime_seconds || psi_some || target_kib ||
         current_kib;
}

Encoded encode(const GuestStats& s) {
  Encoded e;
  auto put = [&](std::string_view k, std::string v) { e.values[std::string(k)] = std::move(v); };
  auto opt = [](const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : std::string();
  };
  put(key::kLayout, std::to_string(kLayoutVersion));
  put(key::kAgent, s.agent.value_or("").substr(0, kMaxTextBytes));
  put(key::kHeartbeat, std::to_string(s.heartbeat_unix_seconds.value_or(0)));
  put(key::kMode, s.mode.value_or("").substr(0, kMaxTextBytes));
  put(key::kPolicy, s.policy.value_or("").substr(0, kMaxTextBytes));
  put(key::kTargetKib, opt(s.target_kib));
  put(key::kFloorKib, opt(s.floor_kib));
  put(key::kCurrentKib, opt(s.current_kib));
  bool cut = false;
  put(key::kMeminfo, encode_values(s.meminfo_kib, kMeminfoFields, &cut));
  if (cut) e.truncated.emplace_back(key::kMeminfo);
  cut = false;
  put(key::kVmstat, encode_values(s.vmstat, kVmstatCounters, &cut));
  if (cut) e.truncated.emplace_back(key::kVmstat);
  if (s.uptime_seconds) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %.2f", *s.uptime_seconds, s.idle_seconds.value_or(0));
    put(key::kUptime, buf);
  }
  if (s.psi_some) {
    std::string text = format_psi("some", *s.psi_some);
    if (s.psi_full) text += format_psi("full", *s.psi_full);
    put(key::kPressure, text);
  }
  return e;
}

std::optional<std::string> decode_value(std::string_view k, std::string_view value,
                                        GuestStats* out) {
  if (value.size() > 4096) {
    (void)decode_value(k, "", out);  // an empty value clears the key's fields
    return "too_large";
  }
  if (k == key::kMeminfo) {
    out->meminfo_kib.clear();
    return decode_values(value, &meminfo_index, kMaxKib, &out->meminfo_kib);
  }
  if (k == key::kVmstat) {
    out->vmstat.clear();
    return decode_values(value, &vmstat_index, std::uint64_t{1} << 62, &out->vmstat);
  }
  if (k == key::kLayout) {
    out->layout.reset();
    auto v = bounded_u64(value, 1000);
    if (!v) return "malformed";
    out->layout = static_cast<int>(*v);
    return std::nullopt;
  }
  if (k == key::kHeartbeat) {
    out->heartbeat_unix_seconds.reset();
    auto v = bounded_u64(value, std::uint64_t{1} << 40);
    if (!v) return "malformed";
    out->heartbeat_unix_seconds = static_cast<std::int64_t>(*v);
    return std::nullopt;
  }
  auto decode_kib = [&](std::optional<std::uint64_t>& field) -> std::optional<std::string> {
    field.reset();
    if (value.empty()) return std::nullopt;  // not known yet
    auto v = bounded_u64(value, kMaxKib);
    if (!v) return "malformed";
    field = v;
    return std::nullopt;
  };
  if (k == key::kTargetKib) return decode_kib(out->target_kib);
  if (k == key::kFloorKib) return decode_kib(out->floor_kib);
  if (k == key::kCurrentKib) return decode_kib(out->current_kib);
  if (k == key::kAgent) {
    out->agent.reset();
    if (!printable_token(value)) return "malformed";
    out->agent = std::string(value);
    return std::nullopt;
  }
  if (k == key::kMode) {
    out->mode.reset();
    out->selfballoon.reset();
    if (value != "selfballoon" && value != "directed" && value != "dry-run") return "unknown_value";
    out->mode = std::string(value);
    if (value != "dry-run") out->selfballoon = value == "selfballoon";
    return std::nullopt;
  }
  if (k == key::kPolicy) {
    out->policy.reset();
    if (value != "pressure" && value != "classic") return "unknown_value";
    out->policy = std::string(value);
    return std::nullopt;
  }
  if (k == key::kUptime) {
    out->uptime_seconds.reset();
    out->idle_seconds.reset();
    auto space = value.find(' ');
    if (space == std::string_view::npos) return "malformed";
    auto up = parse_double(value.substr(0, space));
    auto idle = parse_double(value.substr(space + 1));
    if (!up || !idle || *up < 0 || *idle < 0 || *up > 1e10 || *idle > 1e12) return "malformed";
    out->uptime_seconds = *up;
    out->idle_seconds = *idle;
    return std::nullopt;
  }
  if (k == key::kPressure) {
    out->psi_some.reset();
    out->psi_full.reset();
    auto parsed = parse_pressure(value, "pressure");
    if (!parsed) return "malformed";
    auto convert = [](const PressureLine& l) -> std::optional<Psi> {
      for (double avg : {l.avg10, l.avg60, l.avg300}) {
        if (!(avg >= 0 && avg <= 100)) return std::nullopt;
      }
      return Psi{l.avg10, l.avg60, l.avg300, l.total_us};
    };
    auto some = convert(parsed->some);
    std::optional<Psi> full;
    if (parsed->full) full = convert(*parsed->full);
    if (!some || (parsed->full && !full)) return "out_of_range";
    out->psi_some = some;
    out->psi_full = full;
    return std::nullopt;
  }
  return "unknown_key";
}

}  // namespace xenballoon::publish
