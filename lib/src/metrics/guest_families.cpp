#include "xenballoon/metrics/guest_families.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <map>

#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Families in first-seen order, so the output is stable.
class Builder {
 public:
  void add(const std::string& name, std::string_view help, MetricType type,
           const std::vector<std::pair<std::string, std::string>>& labels, double value,
           const std::vector<std::pair<std::string, std::string>>& extra_labels = {}) {
    auto [it, inserted] = index_.try_emplace(name, families_.size());
    if (inserted) {
      families_.push_back(MetricFamily{name, std::string(help), type, {}});
    }
    ClientMetric metric;
    for (const auto& [k, v] : labels) metric.label.push_back({k, v});
    for (const auto& [k, v] : extra_labels) metric.label.push_back({k, v});
    if (type == MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    families_[it->second].metric.push_back(std::move(metric));
  }
  void add(const Family& family, const std::vector<std::pair<std::string, std::string>>& labels,
           double value, const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    add(std::string(family.name), family.help,
        family.type == Type::kCounter ? MetricType::Counter : MetricType::Gauge, labels, value,
        extra);
  }
  std::vector<MetricFamily>& families() { return families_; }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<MetricFamily> families_;
};

}  // namespace

std::string render_text(const std::vector<GuestSample>& samples) {
  Builder b;
  for (const auto& s : samples) {
    const auto& l = s.labels;
    for (const auto& m : s.meminfo) {
      b.add(meminfo_family(m.field, m.has_kb_unit), kMeminfoHelp, MetricType::Gauge, l,
            static_cast<double>(m.value));
    }
    for (const auto& [name, value] : s.vmstat) {
      b.add(vmstat_family(name), kVmstatHelp, MetricType::Counter, l, static_cast<double>(value));
    }
    if (s.uptime_seconds) b.add(kUptime, l, *s.uptime_seconds);
    if (s.psi_some_total_us) b.add(kPsiSomeTotal, l, *s.psi_some_total_us / 1e6);
    if (s.psi_full_total_us) b.add(kPsiFullTotal, l, *s.psi_full_total_us / 1e6);
    if (s.psi_some_avg10) b.add(kPsiSomeAvg10, l, *s.psi_some_avg10 / 100.0);
    if (s.psi_full_avg10) b.add(kPsiFullAvg10, l, *s.psi_full_avg10 / 100.0);
    auto bytes = [&](const Family& f, const std::optional<std::uint64_t>& v) {
      if (v) b.add(f, l, static_cast<double>(*v));
    };
    bytes(kBalloonTarget, s.balloon_target_bytes);
    bytes(kBalloonCurrent, s.balloon_current_bytes);
    bytes(kBalloonFloor, s.balloon_floor_bytes);
    bytes(kStaticMax, s.static_max_bytes);
    bytes(kDom0Target, s.dom0_target_bytes);
    if (s.selfballoon) b.add(kSelfballoon, l, *s.selfballoon ? 1 : 0);
    if (s.agent) {
      b.add(kAgentInfo, l, 1,
            {{"version", s.agent->version}, {"policy", s.agent->policy}, {"mode", s.agent->mode}});
    }
    if (s.heartbeat_unix_seconds) b.add(kHeartbeat, l, *s.heartbeat_unix_seconds);
    if (s.last_update_unix_seconds) b.add(kLastUpdate, l, *s.last_update_unix_seconds);
  }
  return prometheus::TextSerializer().Serialize(b.families());
}

}  // namespace xenballoon::metrics
