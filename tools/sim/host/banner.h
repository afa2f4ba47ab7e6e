// What `xenballoon-sim run` prints once everything is up: where to look and what to type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xenballoon::sim::host {

// A plain value.
struct BannerAgent {
  std::string guest;
  std::uint32_t domid = 0;
  std::string url;
};

// A plain value.
struct HostBanner {
  std::string scenario_name;
  std::uint64_t host_memory_mib = 0;
  double speed = 1;
  std::string run_dir;
  std::string exporter_url;
  std::string balancer_url;  // empty without the balancer
  std::vector<BannerAgent> agents;
  std::string prometheus_url;    // empty without Prometheus
  std::string alertmanager_url;  // empty without Alertmanager
  // How to call this program again, with --rundir when it is not the default one.
  std::string sim_command;
  std::string rundir_flag;  // "" or " --rundir DIR"
  std::string monitor_command;
  std::string dom0_socket;
};

std::string render_banner(const HostBanner& banner);

}  // namespace xenballoon::sim::host
