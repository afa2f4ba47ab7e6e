#include "banner.h"

#include <algorithm>
#include <sstream>

namespace xenballoon::sim::host {
namespace {

std::string padded(const std::string& text, std::size_t width) {
  return text + std::string(width > text.size() ? width - text.size() : 1, ' ');
}

}  // namespace

std::string render_banner(const HostBanner& banner) {
  std::size_t label_width = std::string("Alertmanager").size();
  for (const BannerAgent& agent : banner.agents) {
    label_width = std::max(label_width, std::string("agent ").size() + agent.guest.size());
  }
  label_width += 2;
  const std::string xenstore_env = "XENSTORED_PATH=" + banner.dom0_socket;
  const std::string first_guest = banner.agents.empty() ? "NAME" : banner.agents.front().guest;
  const std::string first_domid =
      banner.agents.empty() ? "DOMID" : std::to_string(banner.agents.front().domid);

  std::ostringstream out;
  out << "\nxenballoon-sim: scenario \"" << banner.scenario_name << "\", " << banner.agents.size()
      << " guests on a " << banner.host_memory_mib << " MiB host, " << banner.speed
      << " model s per s\n";
  out << "run directory " << banner.run_dir << " (logs in logs/, guest files in guests/)\n\n";
  out << "  " << padded("exporter", label_width) << banner.exporter_url << "\n";
  if (!banner.balancer_url.empty()) {
    out << "  " << padded("balancer", label_width) << banner.balancer_url
        << "   (moves host memory to the guests that need it)\n";
  }
  for (const BannerAgent& agent : banner.agents) {
    out << "  " << padded("agent " + agent.guest, label_width) << agent.url << "   (domid "
        << agent.domid << ")\n";
  }
  if (!banner.prometheus_url.empty()) {
    out << "  " << padded("Prometheus", label_width) << banner.prometheus_url
        << "   (alerts: /alerts, targets: /targets)\n";
  }
  if (!banner.alertmanager_url.empty()) {
    out << "  " << padded("Alertmanager", label_width) << banner.alertmanager_url << "\n";
  }
  out << "\n";
  out << "  guests:    " << banner.sim_command << " list" << banner.rundir_flag << "\n";
  out << "  resize:    " << banner.sim_command << " mem-set" << banner.rundir_flag << " "
      << first_guest << " 1024   (like xl mem-set, MiB)\n";
  out << "  monitor:   " << xenstore_env << " " << banner.monitor_command << "\n";
  out << "  xenstore:  " << xenstore_env << " xenstore-ls -fp /local/domain\n";
  out << "  directed:  " << xenstore_env << " xenstore-write /local/domain/" << first_domid
      << "/memory/selfballoon 0\n";
  out << "\nCtrl-C stops everything.\n\n";
  return out.str();
}

}  // namespace xenballoon::sim::host
