// The configuration the simulator writes for its xenballoon-balancer. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace xenballoon::sim::host {

// What the simulated host's balancer needs to know. A plain value.
struct BalancerSetup {
  std::string listen_address;  // host:port
  std::string pidfile;
  int interval_seconds = 5;
};

// xenballoon-balancer.yaml: every other key keeps its default (config/xenballoon-balancer.yaml).
std::string render_balancer_config(const BalancerSetup& setup);

// The host memory file the balancer reads without a hypervisor: "total_kib free_kib\n".
std::string render_host_memory(std::uint64_t total_kib, std::uint64_t free_kib);

}  // namespace xenballoon::sim::host
