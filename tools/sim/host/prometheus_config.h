// Configuration for the Prometheus and Alertmanager that watch the simulated host.
#pragma once

#include <string>
#include <vector>

namespace xenballoon::sim::host {

// One guest's agent as a scrape target. A plain value.
struct AgentTarget {
  std::string address;  // host:port
  std::string domain;
  std::string domid;
  std::string uuid;
};

// What Prometheus scrapes and where it sends alerts. A plain value.
struct PrometheusSetup {
  std::string exporter_address;  // host:port
  std::string balancer_address;  // host:port; empty without the balancer
  std::vector<AgentTarget> agents;
  std::string alertmanager_address;     // host:port
  std::vector<std::string> rule_files;  // relative to the configuration file's directory
  int scrape_interval_seconds = 5;
};

// prometheus.yml: the exporter (job xenballoon-exporter), the balancer when it runs (job
// xenballoon-balancer), both with `instance` = the host without the port as the shipped scrape
// configurations have it, and every agent (job xenballoond, with
// the guest's domain/domid/uuid as target labels, the labels the alert rules expect), the rule
// files, and the local Alertmanager.
std::string render_prometheus_config(const PrometheusSetup& setup);

// alertmanager.yml: one receiver without notifications, so alerts show in the web UI only and
// nothing leaves the machine.
std::string render_alertmanager_config();

}  // namespace xenballoon::sim::host
