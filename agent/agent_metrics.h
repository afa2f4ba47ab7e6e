// xenballoond's own metrics (decisions, errors, durations) in a prometheus-cpp registry.
// Thread-safe: prometheus-cpp metrics are atomic and the registry locks itself.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace xenballoon::agent {

class AgentMetrics {
 public:
  explicit AgentMetrics(const std::string& version);

  prometheus::Counter& adjustment(const std::string& direction);
  prometheus::Counter& skipped(const std::string& reason);
  prometheus::Counter& shrink_held(const std::string& reason);
  prometheus::Gauge& pressure(const std::string& signal);
  prometheus::Counter& xenstore_error(const std::string& operation, const std::string& error);
  prometheus::Counter& override_error(const std::string& key);
  prometheus::Counter& publication(const std::string& result);
  prometheus::Gauge& setting(const std::string& name);
  prometheus::Gauge& xenstore_connected() { return *xenstore_connected_; }
  prometheus::Counter& xenstore_reconnects() { return *xenstore_reconnects_; }
  prometheus::Counter& balloon_write_errors() { return *balloon_write_errors_; }
  prometheus::Histogram& tick_duration() { return *tick_duration_; }
  prometheus::Histogram& publish_duration() { return *publish_duration_; }
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
  prometheus::Counter* balloon_write_errors_;
  prometheus::Histogram* tick_duration_;
  prometheus::Histogram* publish_duration_;
  prometheus::Histogram* directed_latency_;
};

}  // namespace xenballoon::agent
