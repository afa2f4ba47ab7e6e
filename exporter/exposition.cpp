#include "exposition.h"

#include <chrono>

#include "xenballoon/dom0/label_text.h"
#include "xenballoon/metrics/text_writer.h"
#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::dom0 {
namespace {

using metrics::Family;
using metrics::Type;

using metrics::append_header;
using metrics::append_number;

void append_number(std::string& out, const metrics::SampleValue& value) {
  if (value.integer) {
    append_number(out, value.u64);
  } else {
    append_number(out, value.real);
  }
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
    const auto agent = guest->view().stats.agent_info();
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

// The guest families in the order of metrics::guest_families(), then the exporter's own.
void write_guests(std::string& out, const std::vector<const GuestRecord*>& guests) {
  const auto& meminfo_names = metrics::meminfo_family_names();
  for (std::size_t i = 0; i < meminfo_names.size(); ++i) {
    write_guest_family(out, guests, meminfo_names[i], metrics::kMeminfoHelp, Type::kGauge,
                       [i](const GuestView& v) -> std::optional<std::uint64_t> {
                         const auto& kib = v.stats.meminfo_kib.known[i];
                         if (!kib) return std::nullopt;
                         return metrics::meminfo_family_value(i, *kib);
                       });
  }
  const auto& vmstat_names = metrics::vmstat_family_names();
  for (std::size_t i = 0; i < vmstat_names.size(); ++i) {
    write_guest_family(out, guests, vmstat_names[i], metrics::kVmstatHelp, Type::kCounter,
                       [i](const GuestView& v) { return v.stats.vmstat.known[i]; });
  }
  for (const metrics::GuestFamily& family : metrics::guest_families()) {
    if (family.agent_info) {
      write_agent_info(out, guests);
      continue;
    }
    write_guest_family(out, guests, *family.family,
                       [&family](const GuestView& v) { return family.value(v.stats); });
  }
  write_guest_family(out, guests, metrics::kLastUpdate,
                     [](const GuestView& v) { return v.last_update_unix_seconds; });
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
    metrics::append_single(out, metrics::kGuests, static_cast<std::uint64_t>(exported.size()));
    metrics::append_single(out, metrics::kGuestsWithAgent, with_agent);
    append_header(out, metrics::kParseErrors.name, metrics::kParseErrors.help,
                  metrics::kParseErrors.type);
    for (const auto& [reason, count] : stats.parse_errors) {
      out.append(metrics::kParseErrors.name).append("{reason=\"");
      append_label_value(out, reason);
      out.append("\"} ");
      append_number(out, count);
      out.push_back('\n');
    }
    metrics::append_single(out, metrics::kCacheUpdates, stats.updates);
  });
  if (context.feed) {
    metrics::append_single(out, metrics::kExporterConnected, context.feed->connected.load());
    metrics::append_single(out, metrics::kExporterReconnects, context.feed->reconnects.load());
  }
  if (context.host) {
    metrics::append_single(out, metrics::kHostMemoryTotal, context.host->total_bytes);
    metrics::append_single(out, metrics::kHostMemoryFree, context.host->free_bytes);
  }
  metrics::append_single(
      out, metrics::kScrapeDuration,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return out;
}

std::string render_reference_text(const GuestCache& cache) {
  std::vector<GuestView> views = cache.views();
  std::vector<metrics::LabelledGuest> guests;
  guests.reserve(views.size());
  for (const GuestView& v : views) {
    guests.push_back({{{"domid", std::to_string(v.domid)}, {"domain", v.name}, {"uuid", v.uuid}},
                      &v.stats,
                      v.last_update_unix_seconds});
  }
  return metrics::render_text(guests);
}

}  // namespace xenballoon::dom0
