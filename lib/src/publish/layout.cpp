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

const std::vector<std::string> kMeminfoFields = {
    "MemTotal",        "MemFree",        "MemAvailable",   "Buffers",        "Cached",
    "SwapCached",      "Active",         "Inactive",       "Active(anon)",   "Inactive(anon)",
    "Active(file)",    "Inactive(file)", "Unevictable",    "Mlocked",        "SwapTotal",
    "SwapFree",        "Zswap",          "Zswapped",       "Dirty",          "Writeback",
    "AnonPages",       "Mapped",         "Shmem",          "KReclaimable",   "Slab",
    "SReclaimable",    "SUnreclaim",     "KernelStack",    "PageTables",     "SecPageTables",
    "NFS_Unstable",    "Bounce",         "WritebackTmp",   "CommitLimit",    "Committed_AS",
    "VmallocTotal",    "VmallocUsed",    "VmallocChunk",   "Percpu",         "HardwareCorrupted",
    "AnonHugePages",   "ShmemHugePages", "ShmemPmdMapped", "FileHugePages",  "FilePmdMapped",
    "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize",
    "Hugetlb",         "DirectMap4k",    "DirectMap2M",    "DirectMap1G",    "CmaTotal",
    "CmaFree"};

const std::vector<std::string> kVmstatCounters = {"pswpin",
                                                  "pswpout",
                                                  "pgpgin",
                                                  "pgpgout",
                                                  "pgfault",
                                                  "pgmajfault",
                                                  "oom_kill",
                                                  "pgscan_kswapd",
                                                  "pgscan_direct",
                                                  "pgsteal_kswapd",
                                                  "pgsteal_direct",
                                                  "allocstall_normal",
                                                  "allocstall_movable",
                                                  "workingset_refault_anon",
                                                  "workingset_refault_file",
                                                  "compact_stall",
                                                  "balloon_inflate",
                                                  "balloon_deflate"};

bool contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// Appends "name value\n" lines while they fit below kMaxValueBytes.
std::string encode_pairs(const std::vector<std::pair<std::string, std::uint64_t>>& pairs,
                         bool* truncated) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    std::string line = name + " " + std::to_string(value) + "\n";
    if (out.size() + line.size() > kMaxValueBytes) {
      *truncated = true;
      break;
    }
    out += line;
  }
  return out;
}

std::string format_psi(const char* kind, const Snapshot::Psi& psi) {
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

// "name value" lines with names from `known`; unknown names are skipped (newer agents).
std::optional<std::string> decode_pairs(std::string_view value,
                                        const std::vector<std::string>& known,
                                        std::uint64_t max_value,
                                        std::map<std::string, std::uint64_t>* out) {
  std::map<std::string, std::uint64_t> result;
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
    if (!contains(known, name)) continue;
    if (!result.emplace(std::string(name), *number).second) return "duplicate";
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

const std::vector<std::string>& known_meminfo_fields() {
  return kMeminfoFields;
}
const std::vector<std::string>& known_vmstat_counters() {
  return kVmstatCounters;
}
bool is_known_meminfo_field(std::string_view name) {
  return contains(kMeminfoFields, name);
}
bool is_known_vmstat_counter(std::string_view name) {
  return contains(kVmstatCounters, name);
}

Encoded encode(const Snapshot& s) {
  Encoded e;
  auto put = [&](std::string_view k, std::string v) { e.values[std::string(k)] = std::move(v); };
  auto opt = [](const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : std::string();
  };
  put(key::kLayout, std::to_string(kLayoutVersion));
  put(key::kAgent, s.agent.substr(0, kMaxTextBytes));
  put(key::kHeartbeat, std::to_string(s.heartbeat_unix_seconds));
  put(key::kMode, s.mode);
  put(key::kPolicy, s.policy);
  put(key::kTargetKib, opt(s.target_kib));
  put(key::kFloorKib, opt(s.floor_kib));
  put(key::kCurrentKib, opt(s.current_kib));
  bool cut = false;
  put(key::kMeminfo, encode_pairs(s.meminfo_kib, &cut));
  if (cut) e.truncated.emplace_back(key::kMeminfo);
  cut = false;
  put(key::kVmstat, encode_pairs(s.vmstat, &cut));
  if (cut) e.truncated.emplace_back(key::kVmstat);
  if (s.uptime) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %.2f", s.uptime->first, s.uptime->second);
    put(key::kUptime, buf);
  }
  if (s.psi_some) {
    std::string text = format_psi("some", *s.psi_some);
    if (s.psi_full) text += format_psi("full", *s.psi_full);
    put(key::kPressure, text);
  }
  return e;
}

std::optional<std::string> decode_value(std::string_view k, std::string_view value, Decoded* out) {
  if (value.size() > 4096) return "too_large";
  if (k == key::kMeminfo) {
    out->meminfo_kib.clear();
    return decode_pairs(value, kMeminfoFields, kMaxKib, &out->meminfo_kib);
  }
  if (k == key::kVmstat) {
    out->vmstat.clear();
    return decode_pairs(value, kVmstatCounters, std::uint64_t{1} << 62, &out->vmstat);
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
    if (value != "selfballoon" && value != "directed" && value != "dry-run") return "unknown_value";
    out->mode = std::string(value);
    return std::nullopt;
  }
  if (k == key::kPolicy) {
    out->policy.reset();
    if (value != "pressure" && value != "classic") return "unknown_value";
    out->policy = std::string(value);
    return std::nullopt;
  }
  if (k == key::kUptime) {
    out->uptime.reset();
    auto space = value.find(' ');
    if (space == std::string_view::npos) return "malformed";
    auto up = parse_double(value.substr(0, space));
    auto idle = parse_double(value.substr(space + 1));
    if (!up || !idle || *up < 0 || *idle < 0 || *up > 1e10 || *idle > 1e12) return "malformed";
    out->uptime = std::make_pair(*up, *idle);
    return std::nullopt;
  }
  if (k == key::kPressure) {
    out->psi_some.reset();
    out->psi_full.reset();
    auto parsed = parse_pressure(value, "pressure");
    if (!parsed) return "malformed";
    auto convert = [](const PressureLine& l) -> std::optional<Snapshot::Psi> {
      for (double avg : {l.avg10, l.avg60, l.avg300}) {
        if (!(avg >= 0 && avg <= 100)) return std::nullopt;
      }
      return Snapshot::Psi{l.avg10, l.avg60, l.avg300, l.total_us};
    };
    auto some = convert(parsed->some);
    std::optional<Snapshot::Psi> full;
    if (parsed->full) full = convert(*parsed->full);
    if (!some || (parsed->full && !full)) return "out_of_range";
    out->psi_some = some;
    out->psi_full = full;
    return std::nullopt;
  }
  return "unknown_key";
}

}  // namespace xenballoon::publish
