#include "agent_metrics.h"

#include <prometheus/text_serializer.h>

#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::agent {
namespace {

template <typename Builder>
auto& family(Builder builder, const metrics::Family& spec, prometheus::Registry& registry) {
  return builder.Name(std::string(spec.name)).Help(std::string(spec.help)).Register(registry);
}

prometheus::Histogram::BucketBoundaries seconds_buckets() {
  return {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1};
}

}  // namespace

AgentMetrics::AgentMetrics(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()) {
  using namespace metrics;
  auto& r = *registry_;
  adjustments_ = &family(prometheus::BuildCounter(), kAdjustments, r);
  skipped_ = &family(prometheus::BuildCounter(), kTicksSkipped, r);
  shrink_held_ = &family(prometheus::BuildCounter(), kShrinkHeld, r);
  pressure_ = &family(prometheus::BuildGauge(), kMemoryPressure, r);
  xenstore_errors_ = &family(prometheus::BuildCounter(), kXenstoreErrors, r);
  override_errors_ = &family(prometheus::BuildCounter(), kOverrideErrors, r);
  publications_ = &family(prometheus::BuildCounter(), kPublications, r);
  settings_ = &family(prometheus::BuildGauge(), kEffectiveSetting, r);
  xenstore_connected_ = &family(prometheus::BuildGauge(), kXenstoreConnected, r).Add({});
  xenstore_reconnects_ = &family(prometheus::BuildCounter(), kXenstoreReconnects, r).Add({});
  balloon_write_errors_ = &family(prometheus::BuildCounter(), kBalloonWriteErrors, r);
  read_errors_ = &family(prometheus::BuildCounter(), kReadErrors, r);
  tick_duration_ =
      &family(prometheus::BuildHistogram(), kTickDuration, r).Add({}, seconds_buckets());
  publish_duration_ =
      &family(prometheus::BuildHistogram(), kPublishDuration, r).Add({}, seconds_buckets());
  directed_latency_ =
      &family(prometheus::BuildHistogram(), kDirectedLatency, r).Add({}, seconds_buckets());
  auto& cpu = family(prometheus::BuildCounter(), kCpuSeconds, r);
  tick_cpu_ = &cpu.Add({{"activity", "tick"}});
  publish_cpu_ = &cpu.Add({{"activity", "publish"}});
  family(prometheus::BuildGauge(), kBuildInfo, r).Add({{"version", version}}).Set(1);
  // Series that should read 0 from the start rather than appear on the first event.
  for (const char* d : {"up", "down"}) adjustments_->Add({{"direction", d}});
  const char* signal_names[] = {"psi", "swapin", "majfault"};
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    signals_[i] = &pressure_->Add({{"signal", signal_names[i]}});
  }
  const char* setting_names[] = {"selfballoon", "uphysteresis", "downhysteresis", "minmem_mib",
                                 "interval_seconds"};
  for (std::size_t i = 0; i < settings_by_kind_.size(); ++i) {
    settings_by_kind_[i] = &settings_->Add({{"setting", setting_names[i]}});
  }
  for (const char* p : {"ok", "error"}) publications_->Add({{"result", p}});
  // The errors a balloon driver gives, at 0 from the start so that the first one is an increase.
  for (const char* e : {"EIO", "EINVAL", "EBUSY", "EACCES", "ENOENT"})
    balloon_write_errors_->Add({{"error", e}});
}

prometheus::Counter& AgentMetrics::adjustment(const std::string& direction) {
  return adjustments_->Add({{"direction", direction}});
}
prometheus::Counter& AgentMetrics::skipped(SkipReason reason) {
  prometheus::Counter*& counter = skipped_by_reason_.at(static_cast<std::size_t>(reason));
  if (counter == nullptr) counter = &skipped_->Add({{"reason", std::string(to_string(reason))}});
  return *counter;
}
prometheus::Counter& AgentMetrics::shrink_held(ShrinkHold reason) {
  prometheus::Counter*& counter = held_by_reason_.at(static_cast<std::size_t>(reason));
  if (counter == nullptr)
    counter = &shrink_held_->Add({{"reason", std::string(to_string(reason))}});
  return *counter;
}
prometheus::Counter& AgentMetrics::xenstore_error(const std::string& operation,
                                                  const std::string& error) {
  return xenstore_errors_->Add({{"operation", operation}, {"error", error}});
}
prometheus::Counter& AgentMetrics::override_error(const std::string& key) {
  return override_errors_->Add({{"key", key}});
}
prometheus::Counter& AgentMetrics::balloon_write_error(const std::string& error) {
  return balloon_write_errors_->Add({{"error", error}});
}
prometheus::Counter& AgentMetrics::read_error(const std::string& source, const std::string& error) {
  return read_errors_->Add({{"source", source}, {"error", error}});
}
prometheus::Counter& AgentMetrics::publication(const std::string& result) {
  return publications_->Add({{"result", result}});
}

std::string AgentMetrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace xenballoon::agent
