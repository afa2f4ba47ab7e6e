// Renders guest statistics as Prometheus text exposition, for the agent (its own guest, no
// labels) and the exporter (every guest, labelled). Same families, same meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xenballoon::metrics {

// One guest's values; absent ones produce no series. Plain value; not synchronized.
struct GuestSample {
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. domid, domain, uuid
  struct MeminfoValue {
    std::string field;
    std::uint64_t value = 0;  // bytes for kB fields, else a count
    bool has_kb_unit = true;
  };
  std::vector<MeminfoValue> meminfo;
  std::vector<std::pair<std::string, std::uint64_t>> vmstat;
  std::optional<double> uptime_seconds;
  std::optional<double> psi_some_avg10, psi_full_avg10;  // percent, as the kernel prints it
  std::optional<std::uint64_t> psi_some_total_us, psi_full_total_us;
  std::optional<std::uint64_t> balloon_target_bytes, balloon_current_bytes, balloon_floor_bytes;
  std::optional<std::uint64_t> static_max_bytes, dom0_target_bytes;
  std::optional<bool> selfballoon;
  struct AgentInfo {
    std::string version, policy, mode;
  };
  std::optional<AgentInfo> agent;
  std::optional<double> heartbeat_unix_seconds;
  std::optional<double> last_update_unix_seconds;
};

// Text exposition (format 0.0.4) of all samples, one HELP/TYPE block per family.
std::string render_text(const std::vector<GuestSample>& samples);

}  // namespace xenballoon::metrics
