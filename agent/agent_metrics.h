// xenballoond's own metrics (decisions, errors, durations) in a prometheus-cpp registry.
// Thread-safe: prometheus-cpp metrics are atomic and the registry locks itself.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "xenballoon/policy/policy.h"

namespace xenballoon::agent {

// The settings in force, as xenballoon_effective_setting{setting=...} shows them.
enum class Setting { kSelfballoon, kUphysteresis, kDownhysteresis, kMinmemMib, kIntervalSeconds };
// The pressure signals, as xenballoon_memory_pressure{signal=...} shows them.
enum class Signal { kPsi, kSwapin, kMajfault };

class AgentMetrics {
 public:
  explicit AgentMetrics(const std::string& version);

  // The series set on every tick are looked up once, here, not by label on every tick.
  prometheus::Counter& adjustment(const std::string& direction);
  prometheus::Counter& skipped(SkipReason reason);
  prometheus::Counter& shrink_held(ShrinkHold reason);
  prometheus::Gauge& pressure(Signal signal) { return *signals_[static_cast<std::size_t>(signal)]; }
  prometheus::Counter& xenstore_error(const std::string& operation, const std::string& error);
  prometheus::Counter& override_error(const std::string& key);
  prometheus::Counter& publication(const std::string& result);
  prometheus::Gauge& setting(Setting setting) {
    return *settings_by_kind_[static_cast<std::size_t>(setting)];
  }
  prometheus::Gauge& xenstore_connected() { return *xenstore_connected_; }
  prometheus::Counter& xenstore_reconnects() { return *xenstore_reconnects_; }
  // `error`: the errno name ("EIO").
  prometheus::Counter& balloon_write_error(const std::string& error);
  // `source`: meminfo, vmstat, uptime, pressure or balloon; `error`: an errno name or
  // "malformed".
  prometheus::Counter& read_error(const std::string& source, const std::string& error);
  prometheus::Histogram& tick_duration() { return *tick_duration_; }
  prometheus::Histogram& publish_duration() { return *publish_duration_; }
  prometheus::Counter& tick_cpu() { return *tick_cpu_; }
  prometheus::Counter& publish_cpu() { return *publish_cpu_; }
  prometheus::Histogram& directed_latency() { return *directed_latency_; }

  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* adjustments_;
  prometheus::Family<prometheus::Counter>* skipped_;
  prometheus::Family<prometheus::Counter>* shrink_held_;
  prometheus::Family<prometheus::Gauge>* pressure_;
  prometheus::Family<prometheus::Counter>* xenstore_errors_;
  prometheus::Family<prometheus::Counter>* override_errors_;
  prometheus::Family<prometheus::Counter>* publications_;
  prometheus::Family<prometheus::Gauge>* settings_;
  prometheus::Gauge* xenstore_connected_;
  prometheus::Counter* xenstore_reconnects_;
  prometheus::Family<prometheus::Counter>* balloon_write_errors_;
  prometheus::Family<prometheus::Counter>* read_errors_;
  prometheus::Histogram* tick_duration_;
  prometheus::Histogram* publish_duration_;
  prometheus::Histogram* directed_latency_;
  prometheus::Counter* tick_cpu_;
  prometheus::Counter* publish_cpu_;
  std::array<prometheus::Gauge*, 5> settings_by_kind_{};
  std::array<prometheus::Gauge*, 3> signals_{};
  std::array<prometheus::Counter*, 8> skipped_by_reason_{};  // created on first use
  std::array<prometheus::Counter*, 8> held_by_reason_{};     // created on first use
};

}  // namespace xenballoon::agent
