#include "exposition.h"

#include <charconv>
#include <chrono>

#include "xenballoon/dom0/label_text.h"
#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::dom0 {
namespace {

using metrics::Family;
using metrics::Type;

void append_number(std::string& out, std::uint64_t value) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

void append_number(std::string& out, double value) {
  char buf[40];
  auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

void append_number(std::string& out, bool value) {
  out.push_back(value ? '1' : '0');
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kHistogram:
      return "histogram";
    case Type::kGauge:
      break;
  }
  return "gauge";
}

void append_header(std::string& out, std::string_view name, std::string_view help, Type type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type_name(type)).append("\n");
}

// Writes one family over all guests; the header only when some guest has a value.
// `value_of(view)` returns an optional number.
template <typename ValueOf>
void write_guest_family(std::string& out, const std::vector<const GuestRecord*>& guests,
                        std::string_view name, std::string_view help, Type type,
                        ValueOf&& value_of) {
  bool header = false;
  for (const GuestRecord* guest : guests) {
    auto value = value_of(guest->view());
    if (!value) continue;
    if (!header) {
      append_header(out, name, help, type);
      header = true;
    }
    out.append(name).append("{").append(guest->label_text()).append("} ");
    append_number(out, *value);
    out.push_back('\n');
  }
}

template <typename ValueOf>
void write_guest_family(std::string& out, const std::vector<const GuestRecord*>& guests,
                        const Family& family, ValueOf&& value_of) {
  write_guest_family(out, guests, family.name, family.help, family.type, value_of);
}

void write_agent_info(std::string& out, const std::vector<const GuestRecord*>& guests) {
  bool header = false;
  for (const GuestRecord* guest : guests) {
    const auto& agent = guest->view().agent;
    if (!agent) continue;
    if (!header) {
      append_header(out, metrics::kAgentInfo.name, metrics::kAgentInfo.help,
                    metrics::kAgentInfo.type);
      header = true;
    }
    out.append(metrics::kAgentInfo.name).append("{").append(guest->label_text());
    out.append(",version=\"");
    append_label_value(out, agent->version);
    out.append("\",policy=\"");
    append_label_value(out, agent->policy);
    out.append("\",mode=\"");
    append_label_value(out, agent->mode);
    out.append("\"} 1\n");
  }
}

void write_guests(std::string& out, const std::vector<const GuestRecord*>& guests) {
  const auto& fields = publish::known_meminfo_fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    write_guest_family(
        out, guests, metrics::meminfo_family(fields[i], !is_unitless_meminfo_field(fields[i])),
        metrics::kMeminfoHelp, Type::kGauge, [i](const GuestView& v) { return v.meminfo[i]; });
  }
  const auto& counters = publish::known_vmstat_counters();
  for (std::size_t i = 0; i < counters.size(); ++i) {
    write_guest_family(out, guests, metrics::vmstat_family(counters[i]), metrics::kVmstatHelp,
                       Type::kCounter, [i](const GuestView& v) { return v.vmstat[i]; });
  }
  auto seconds_from_us = [](const std::optional<std::uint64_t>& us) {
    return us ? std::optional<double>(static_cast<double>(*us) / 1e6) : std::nullopt;
  };
  auto ratio_from_percent = [](const std::optional<double>& percent) {
    return percent ? std::optional<double>(*percent / 100.0) : std::nullopt;
  };
  write_guest_family(out, guests, metrics::kUptime,
                     [](const GuestView& v) { return v.uptime_seconds; });
  write_guest_family(out, guests, metrics::kPsiSomeTotal,
                     [&](const GuestView& v) { return seconds_from_us(v.psi_some_total_us); });
  write_guest_family(out, guests, metrics::kPsiFullTotal,
                     [&](const GuestView& v) { return seconds_from_us(v.psi_full_total_us); });
  write_guest_family(out, guests, metrics::kPsiSomeAvg10,
                     [&](const GuestView& v) { return ratio_from_percent(v.psi_some_avg10); });
  write_guest_family(out, guests, metrics::kPsiFullAvg10,
                     [&](const GuestView& v) { return ratio_from_percent(v.psi_full_avg10); });
  write_guest_family(out, guests, metrics::kBalloonTarget,
                     [](const GuestView& v) { return v.balloon_target_bytes; });
  write_guest_family(out, guests, metrics::kBalloonCurrent,
                     [](const GuestView& v) { return v.balloon_current_bytes; });
  write_guest_family(out, guests, metrics::kBalloonFloor,
                     [](const GuestView& v) { return v.balloon_floor_bytes; });
  write_guest_family(out, guests, metrics::kStaticMax,
                     [](const GuestView& v) { return v.static_max_bytes; });
  write_guest_family(out, guests, metrics::kDom0Target,
                     [](const GuestView& v) { return v.dom0_target_bytes; });
  write_guest_family(out, guests, metrics::kSelfballoon,
                     [](const GuestView& v) { return v.selfballoon; });
  write_agent_info(out, guests);
  write_guest_family(out, guests, metrics::kHeartbeat,
                     [](const GuestView& v) { return v.heartbeat_unix_seconds; });
  write_guest_family(out, guests, metrics::kLastUpdate,
                     [](const GuestView& v) { return v.last_update_unix_seconds; });
}

template <typename Number>
void write_single(std::string& out, const Family& family, Number value) {
  append_header(out, family.name, family.help, family.type);
  out.append(family.name).append(" ");
  append_number(out, value);
  out.push_back('\n');
}

}  // namespace

std::string render_exposition(const GuestCache& cache, const ScrapeContext& context) {
  auto started = std::chrono::steady_clock::now();
  std::string out;
  cache.read([&](const std::map<std::uint32_t, GuestRecord>& guests, const CacheStats& stats) {
    std::vector<const GuestRecord*> exported;
    exported.reserve(guests.size());
    std::uint64_t with_agent = 0;
    for (const auto& [domid, record] : guests) {
      if (!record.exported()) continue;
      exported.push_back(&record);
      if (record.has_agent_layout()) ++with_agent;
    }
    // About 80 series of about 130 bytes for a guest running the agent.
    out.reserve(4096 + exported.size() * 80 * 130);
    write_guests(out, exported);
    write_single(out, metrics::kGuests, static_cast<std::uint64_t>(exported.size()));
    write_single(out, metrics::kGuestsWithAgent, with_agent);
    append_header(out, metrics::kParseErrors.name, metrics::kParseErrors.help,
                  metrics::kParseErrors.type);
    for (const auto& [reason, count] : stats.parse_errors) {
      out.append(metrics::kParseErrors.name).append("{reason=\"");
      append_label_value(out, reason);
      out.append("\"} ");
      append_number(out, count);
      out.push_back('\n');
    }
    write_single(out, metrics::kCacheUpdates, stats.updates);
  });
  if (context.feed) {
    write_single(out, metrics::kExporterConnected, context.feed->connected.load());
    write_single(out, metrics::kExporterReconnects, context.feed->reconnects.load());
  }
  if (context.host) {
    write_single(out, metrics::kHostMemoryTotal, context.host->total_bytes);
    write_single(out, metrics::kHostMemoryFree, context.host->free_bytes);
  }
  write_single(out, metrics::kScrapeDuration,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return out;
}

std::vector<metrics::GuestSample> to_guest_samples(const GuestCache& cache) {
  std::vector<metrics::GuestSample> samples;
  const auto& fields = publish::known_meminfo_fields();
  const auto& counters = publish::known_vmstat_counters();
  for (const GuestView& v : cache.views()) {
    metrics::GuestSample s;
    s.labels = {{"domid", std::to_string(v.domid)}, {"domain", v.name}, {"uuid", v.uuid}};
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (v.meminfo[i]) {
        s.meminfo.push_back({fields[i], *v.meminfo[i], !is_unitless_meminfo_field(fields[i])});
      }
    }
    for (std::size_t i = 0; i < counters.size(); ++i) {
      if (v.vmstat[i]) s.vmstat.emplace_back(counters[i], *v.vmstat[i]);
    }
    s.uptime_seconds = v.uptime_seconds;
    s.psi_some_avg10 = v.psi_some_avg10;
    s.psi_full_avg10 = v.psi_full_avg10;
    s.psi_some_total_us = v.psi_some_total_us;
    s.psi_full_total_us = v.psi_full_total_us;
    s.balloon_target_bytes = v.balloon_target_bytes;
    s.balloon_current_bytes = v.balloon_current_bytes;
    s.balloon_floor_bytes = v.balloon_floor_bytes;
    s.static_max_bytes = v.static_max_bytes;
    s.dom0_target_bytes = v.dom0_target_bytes;
    s.selfballoon = v.selfballoon;
    if (v.agent) {
      s.agent = metrics::GuestSample::AgentInfo{v.agent->version, v.agent->policy, v.agent->mode};
    }
    s.heartbeat_unix_seconds = v.heartbeat_unix_seconds;
    s.last_update_unix_seconds = v.last_update_unix_seconds;
    samples.push_back(std::move(s));
  }
  return samples;
}

}  // namespace xenballoon::dom0
