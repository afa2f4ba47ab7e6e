// The configuration file xenballoon-sim writes for each guest's xenballoond.
#pragma once

#include <cstdint>
#include <string>

namespace xenballoon::sim::host {

// What differs between the guests' agents. A plain value.
struct GuestAgentSetup {
  std::string guest;
  std::uint32_t domid = 0;
  std::string listen_address;  // host:port
  std::string procfs_root;     // the guest's simulated /proc
  std::string sysfs_root;      // the guest's simulated /sys
  std::string pidfile;
};

// A xenballoond.yaml with the pressure policy, selfballooning, and the guest's paths and port;
// every other key keeps its default (config/xenballoond.yaml).
std::string render_guest_agent_config(const GuestAgentSetup& setup);

}  // namespace xenballoon::sim::host
