#include "xenballoon/metrics/guest_families.h"

#include "xenballoon/publish/layout.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <map>

namespace xenballoon::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using publish::GuestStats;

std::optional<SampleValue> integer(const std::optional<std::uint64_t>& v) {
  if (!v) return std::nullopt;
  return SampleValue{true, *v, 0};
}
std::optional<SampleValue> real(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return SampleValue{false, 0, *v};
}
std::optional<SampleValue> bytes_of_kib(const std::optional<std::uint64_t>& kib) {
  if (!kib) return std::nullopt;
  return SampleValue{true, *kib * 1024, 0};
}
std::optional<std::uint64_t> as_u64(double value) {
  if (!(value >= 0) || value > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}
std::optional<std::uint64_t> kib_of_bytes(double bytes) {
  auto v = as_u64(bytes);
  if (!v) return std::nullopt;
  return *v / 1024;
}
publish::Psi& psi(std::optional<publish::Psi>& slot) {
  if (!slot) slot = publish::Psi{};
  return *slot;
}

const std::vector<GuestFamily> kGuestFamilies = {
    {&kUptime, [](const GuestStats& s) { return real(s.uptime_seconds); },
     [](GuestStats& s, double v) { s.uptime_seconds = v; }},
    {&kPsiSomeTotal,
     [](const GuestStats& s) {
       return s.psi_some ? real(static_cast<double>(s.psi_some->total_us) / 1e6) : std::nullopt;
     },
     [](GuestStats& s, double v) { psi(s.psi_some).total_us = as_u64(v * 1e6).value_or(0); }},
    {&kPsiFullTotal,
     [](const GuestStats& s) {
       return s.psi_full ? real(static_cast<double>(s.psi_full->total_us) / 1e6) : std::nullopt;
     },
     [](GuestStats& s, double v) { psi(s.psi_full).total_us = as_u64(v * 1e6).value_or(0); }},
    {&kPsiSomeAvg10,
     [](const GuestStats& s) {
       return s.psi_some ? real(s.psi_some->avg10 / 100.0) : std::nullopt;
     },
     [](GuestStats& s, double v) { psi(s.psi_some).avg10 = v * 100; }},
    {&kPsiFullAvg10,
     [](const GuestStats& s) {
       return s.psi_full ? real(s.psi_full->avg10 / 100.0) : std::nullopt;
     },
     [](GuestStats& s, double v) { psi(s.psi_full).avg10 = v * 100; }},
    {&kBalloonTarget, [](const GuestStats& s) { return bytes_of_kib(s.target_kib); },
     [](GuestStats& s, double v) { s.target_kib = kib_of_bytes(v); }},
    {&kBalloonCurrent, [](const GuestStats& s) { return bytes_of_kib(s.current_kib); },
     [](GuestStats& s, double v) { s.current_kib = kib_of_bytes(v); }},
    {&kBalloonFloor, [](const GuestStats& s) { return bytes_of_kib(s.floor_kib); },
     [](GuestStats& s, double v) { s.floor_kib = kib_of_bytes(v); }},
    {&kStaticMax, [](const GuestStats& s) { return bytes_of_kib(s.static_max_kib); },
     [](GuestStats& s, double v) { s.static_max_kib = kib_of_bytes(v); }},
    {&kDom0Target, [](const GuestStats& s) { return bytes_of_kib(s.dom0_target_kib); },
     [](GuestStats& s, double v) { s.dom0_target_kib = kib_of_bytes(v); }},
    {&kSelfballoon,
     [](const GuestStats& s) {
       return s.selfballoon ? integer(*s.selfballoon ? 1 : 0) : std::nullopt;
     },
     [](GuestStats& s, double v) { s.selfballoon = v != 0; }},
    {&kAgentInfo, [](const GuestStats& s) { return s.agent_info() ? integer(1) : std::nullopt; },
     nullptr, true},
    {&kHeartbeat,
     [](const GuestStats& s) {
       return s.heartbeat_unix_seconds ? real(static_cast<double>(*s.heartbeat_unix_seconds))
                                       : std::nullopt;
     },
     [](GuestStats& s, double v) {
       if (v >= 0 && v < 1e15) s.heartbeat_unix_seconds = static_cast<std::int64_t>(v);
     }},
};

// Families in first-seen order, so the output is stable.
class Builder {
 public:
  void add(const std::string& name, std::string_view help, Type type,
           const std::vector<std::pair<std::string, std::string>>& labels, double value,
           const std::vector<std::pair<std::string, std::string>>& extra_labels = {}) {
    auto [it, inserted] = index_.try_emplace(name, families_.size());
    if (inserted) {
      families_.push_back(
          MetricFamily{name,
                       std::string(help),
                       type == Type::kCounter ? MetricType::Counter : MetricType::Gauge,
                       {}});
    }
    ClientMetric metric;
    for (const auto& [k, v] : labels) metric.label.push_back({k, v});
    for (const auto& [k, v] : extra_labels) metric.label.push_back({k, v});
    if (type == Type::kCounter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    families_[it->second].metric.push_back(std::move(metric));
  }
  std::vector<MetricFamily>& families() { return families_; }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<MetricFamily> families_;
};

}  // namespace

const std::vector<GuestFamily>& guest_families() {
  return kGuestFamilies;
}

const std::vector<std::string>& meminfo_family_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (std::string_view field : publish::kMeminfoFields) {
      out.push_back(meminfo_family(field, !publish::is_unitless_meminfo_field(field)));
    }
    return out;
  }();
  return names;
}

const std::vector<std::string>& vmstat_family_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (std::string_view counter : publish::kVmstatCounters) out.push_back(vmstat_family(counter));
    return out;
  }();
  return names;
}

std::uint64_t meminfo_family_value(std::size_t index, std::uint64_t kib_or_count) {
  return publish::is_unitless_meminfo_field(publish::kMeminfoFields[index]) ? kib_or_count
                                                                            : kib_or_count * 1024;
}

std::uint64_t meminfo_stats_value(std::size_t index, std::uint64_t bytes_or_count) {
  return publish::is_unitless_meminfo_field(publish::kMeminfoFields[index]) ? bytes_or_count
                                                                            : bytes_or_count / 1024;
}

void assign_agent_info(publish::GuestStats& stats, std::string version, std::string policy,
                       std::string mode) {
  stats.layout = publish::kLayoutVersion;
  stats.agent = std::string(publish::kAgentName) + version;
  stats.policy = std::move(policy);
  stats.mode = std::move(mode);
}

std::string render_text(const std::vector<LabelledGuest>& guests) {
  Builder b;
  for (const LabelledGuest& g : guests) {
    const auto& l = g.labels;
    const GuestStats& s = *g.stats;
    const auto& meminfo_names = meminfo_family_names();
    for (std::size_t i = 0; i < publish::kMeminfoFields.size(); ++i) {
      if (!s.meminfo_kib.known[i]) continue;
      b.add(meminfo_names[i], kMeminfoHelp, Type::kGauge, l,
            static_cast<double>(meminfo_family_value(i, *s.meminfo_kib.known[i])));
    }
    for (const auto& [field, value] : s.meminfo_kib.other) {
      bool kb = !publish::is_unitless_meminfo_field(field);
      b.add(meminfo_family(field, kb), kMeminfoHelp, Type::kGauge, l,
            static_cast<double>(kb ? value * 1024 : value));
    }
    const auto& vmstat_names = vmstat_family_names();
    for (std::size_t i = 0; i < publish::kVmstatCounters.size(); ++i) {
      if (!s.vmstat.known[i]) continue;
      b.add(vmstat_names[i], kVmstatHelp, Type::kCounter, l,
            static_cast<double>(*s.vmstat.known[i]));
    }
    for (const auto& [counter, value] : s.vmstat.other) {
      b.add(vmstat_family(counter), kVmstatHelp, Type::kCounter, l, static_cast<double>(value));
    }
    for (const GuestFamily& f : guest_families()) {
      auto value = f.value(s);
      if (!value) continue;
      if (f.agent_info) {
        auto info = s.agent_info();
        b.add(std::string(f.family->name), f.family->help, f.family->type, l, 1,
              {{"version", info->version}, {"policy", info->policy}, {"mode", info->mode}});
      } else {
        b.add(std::string(f.family->name), f.family->help, f.family->type, l, value->as_double());
      }
    }
    if (g.last_update_unix_seconds) {
      b.add(std::string(kLastUpdate.name), kLastUpdate.help, kLastUpdate.type, l,
            *g.last_update_unix_seconds);
    }
  }
  return prometheus::TextSerializer().Serialize(b.families());
}

}  // namespace xenballoon::metrics
