// xenballoond's configuration: YAML text -> plain struct (parse), then range checks (validate).
// Every key, its default and its meaning: docs/configuration.md and config/xenballoond.yaml.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/config/config_error.h"
#include "xenballoon/result.h"
#include "xenballoon/util/log.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon {

// The YAML accepts `pressure` (the default), `pressure-v2` (working-set-aware, PSI-targeted) and
// `classic`; `kernel` and `none` exist for the simulation benchmark only, and validate() rejects
// them for the agent.
enum class PolicyKind { kPressure, kClassic, kKernel, kNone, kPressureV2 };

// What the agent leaves the balloon at when it stops.
enum class OnExit { kDom0Target, kStaticMax, kLeave };

// Tunables of the `pressure` and `pressure-v2` policies (docs/policies.md says why each default).
struct PressureConfig {
  std::uint64_t reserve_mib = 128;  // added to Committed_AS to form the goal
  // `pressure` only, down to shrink_cooldown_seconds (growth_headroom_mib is the back-off step
  // of both).
  double psi_some_avg10_threshold = 1.0;      // percent; at or above it memory is under pressure
  std::uint64_t swapin_burst_pages = 256;     // pswpin increase over the window that is a burst
  std::uint64_t majfault_burst_count = 1000;  // pgmajfault increase over the window that is a burst
  std::uint64_t burst_window_seconds = 10;    // the window of both bursts
  std::uint64_t growth_headroom_mib = 128;    // added on top of the goal when growing on pressure
  std::uint64_t shrink_cooldown_seconds = 60;  // no shrinking this long after the last pressure

  // `pressure-v2` only.
  double stall_target_percent = 0.05;       // probes shrink only while the window's stall is below
  double stall_backoff_percent = 0.15;      // at or above it over the window: grow at once
  std::uint64_t stall_window_seconds = 10;  // PSI some total and refaults are measured over it
  double probe_percent = 1.0;               // a probe shrinks at most this share per tick
  std::uint64_t backoff_cooldown_seconds = 300;  // no probe this long after a back-off
  std::uint64_t refault_backoff_pages = 256;     // workingset_activate_file rise in the window
  std::uint64_t file_working_set_half_life_seconds = 4 * 3600;  // the estimate forgets this fast
  std::uint64_t headroom_min_mib = 64;                          // spike headroom, at least
  std::uint64_t headroom_max_mib = 1024;                        // and at most
  std::uint64_t spike_window_seconds = 5;             // a Committed_AS rise within it is a spike
  std::uint64_t spike_half_life_seconds = 24 * 3600;  // the largest spike is forgotten this fast
  std::uint64_t balloon_rate_mib_per_s = 256;  // what the balloon delivers per second of reaction
  std::uint64_t swap_absorb_percent = 65;      // the share of SwapFree taken to absorb a spike

  bool operator==(const PressureConfig&) const = default;
};

struct WebConfig {
  std::string listen_address = ":9750";  // [host]:port of the Prometheus endpoint

  bool operator==(const WebConfig&) const = default;
};

struct PathsConfig {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";

  bool operator==(const PathsConfig&) const = default;
};

// Where the values came from: the file name and the line of each key path that was set.
struct ConfigOrigin {
  std::string source_name;
  std::map<std::string, int, std::less<>> lines;  // "pressure.reserve_mib" -> 1-based line

  // 0 when the key was not in the file (a default).
  int line_of(std::string_view key_path) const;

  bool operator==(const ConfigOrigin&) const = default;
};

// The agent's whole configuration; a default-constructed one holds every default.
// A plain value: not synchronized, copy it per thread.
struct AgentConfig {
  PolicyKind policy = PolicyKind::kPressureV2;
  bool selfballoon = true;
  std::uint64_t interval_seconds = 1;
  std::uint64_t publish_interval_seconds = 5;
  std::uint64_t minmem_mib = 0;  // 0: derive the floor from static-max like the balloon driver
  std::uint64_t uphysteresis = 1;
  std::uint64_t downhysteresis = 10;
  PressureConfig pressure;
  OnExit on_exit = OnExit::kDom0Target;
  std::vector<std::string> vmstat_fields = {
      "pswpin",  "pswpout",    "pgpgin",   "pgpgout",
      "pgfault", "pgmajfault", "oom_kill", "workingset_refault_file"};
  bool legacy_paths = false;
  WebConfig web;
  PathsConfig paths;
  std::string pidfile = "/run/xenballoond.pid";  // empty: write no pidfile
  log::Level log_level = log::Level::kInfo;

  ConfigOrigin origin;

  bool operator==(const AgentConfig&) const = default;
};

// Limits that validate() enforces; the policy applies the same ones to dom0's live overrides.
using xenstore::keys::kMaxHysteresis;
using xenstore::keys::kMaxIntervalSeconds;
using xenstore::keys::kMaxSizeMib;
using xenstore::keys::kMinMinmemMib;
inline constexpr std::uint64_t kMaxBurstWindowSeconds = 60;
inline constexpr std::uint64_t kMaxShrinkCooldownSeconds = 3600;
inline constexpr std::uint64_t kMaxBurstThreshold = std::uint64_t{1} << 32;
inline constexpr std::uint64_t kMaxHalfLifeSeconds = 7 * 24 * 3600;
inline constexpr std::uint64_t kMaxBalloonRateMibPerS = 65536;

// Parses YAML text. Type errors, unknown and duplicate keys and YAML syntax errors are all
// reported, one per line of the Error's message. Ranges are not checked here: see validate().
Result<AgentConfig> parse_agent_config(std::string_view yaml, std::string source_name);

// Reads and parses a file; its path is the source name in messages.
Result<AgentConfig> load_agent_config(const std::string& path);

// Range and consistency checks; empty when the configuration is usable.
std::vector<ConfigError> validate(const AgentConfig& config);

// load_agent_config() then validate(), every problem in one Error.
Result<AgentConfig> load_valid_agent_config(const std::string& path);

// The names used in the YAML ("pressure", "dom0-target", "warning", ...).
std::string_view to_string(PolicyKind kind);
std::string_view to_string(OnExit on_exit);
std::string_view to_string(log::Level level);

}  // namespace xenballoon
