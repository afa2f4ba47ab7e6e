#include <cctype>
#include <set>
#include <sstream>
#include <string>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/util/parse.h"

namespace xenballoon {
namespace {

class Checker {
 public:
  explicit Checker(const AgentConfig& config) : config_(config) {}

  void fail(const std::string& key_path, std::string message) {
    errors_.push_back(ConfigError{config_.origin.source_name, config_.origin.line_of(key_path),
                                  key_path, std::move(message)});
  }

  void in_range(const std::string& key_path, std::uint64_t value, std::uint64_t low,
                std::uint64_t high) {
    if (value < low || value > high) {
      fail(key_path, "must be between " + std::to_string(low) + " and " + std::to_string(high) +
                         ", got " + std::to_string(value));
    }
  }

  void absolute_path(const std::string& key_path, const std::string& value) {
    if (value.empty() || value.front() != '/') {
      fail(key_path, "must be an absolute path, got \"" + value + "\"");
    }
  }

  std::vector<ConfigError> take() { return std::move(errors_); }

 private:
  const AgentConfig& config_;
  std::vector<ConfigError> errors_;
};

bool is_counter_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// "[host]:port", "host:port" or ":port"; only the port can be checked without resolving.
bool has_valid_port(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view host = address.substr(0, colon);
  if (host.find(':') != std::string_view::npos &&
      !(host.size() >= 2 && host.front() == '[' && host.back() == ']')) {
    return false;  // a bare IPv6 address is ambiguous: it needs brackets
  }
  const auto port = parse_u64(address.substr(colon + 1));
  return port && *port >= 1 && *port <= 65535;
}

}  // namespace

std::vector<ConfigError> validate(const AgentConfig& config) {
  Checker check(config);

  if (config.policy != PolicyKind::kPressure && config.policy != PolicyKind::kPressureV2 &&
      config.policy != PolicyKind::kClassic) {
    check.fail("policy", "the agent runs `pressure`, `pressure-v2` or `classic`; `" +
                             std::string(to_string(config.policy)) +
                             "` exists only for the simulation benchmark");
  }
  check.in_range("interval_seconds", config.interval_seconds, 1, kMaxIntervalSeconds);
  check.in_range("publish_interval_seconds", config.publish_interval_seconds, 1,
                 kMaxIntervalSeconds);
  if (config.minmem_mib != 0) {
    check.in_range("minmem_mib", config.minmem_mib, kMinMinmemMib, kMaxSizeMib);
  }
  check.in_range("uphysteresis", config.uphysteresis, 0, kMaxHysteresis);
  check.in_range("downhysteresis", config.downhysteresis, 0, kMaxHysteresis);

  const PressureConfig& pressure = config.pressure;
  // A percentage above 0 and at most 100.
  auto percent = [&check](const char* key_path, double value) {
    if (!(value > 0.0 && value <= 100.0)) {
      std::ostringstream got;
      got << value;
      check.fail(key_path, "must be above 0 and at most 100 (percent), got " + got.str());
    }
  };
  check.in_range("pressure.reserve_mib", pressure.reserve_mib, 0, kMaxSizeMib);
  percent("pressure.psi_some_avg10_threshold", pressure.psi_some_avg10_threshold);
  check.in_range("pressure.swapin_burst_pages", pressure.swapin_burst_pages, 1, kMaxBurstThreshold);
  check.in_range("pressure.majfault_burst_count", pressure.majfault_burst_count, 1,
                 kMaxBurstThreshold);
  check.in_range("pressure.burst_window_seconds", pressure.burst_window_seconds, 1,
                 kMaxBurstWindowSeconds);
  check.in_range("pressure.growth_headroom_mib", pressure.growth_headroom_mib, 0, kMaxSizeMib);
  check.in_range("pressure.shrink_cooldown_seconds", pressure.shrink_cooldown_seconds, 0,
                 kMaxShrinkCooldownSeconds);
  percent("pressure.stall_target_percent", pressure.stall_target_percent);
  percent("pressure.stall_backoff_percent", pressure.stall_backoff_percent);
  if (pressure.stall_backoff_percent < pressure.stall_target_percent) {
    check.fail("pressure.stall_backoff_percent", "must not be below stall_target_percent");
  }
  check.in_range("pressure.stall_window_seconds", pressure.stall_window_seconds, 1,
                 kMaxBurstWindowSeconds);
  percent("pressure.probe_percent", pressure.probe_percent);
  check.in_range("pressure.backoff_cooldown_seconds", pressure.backoff_cooldown_seconds, 0,
                 kMaxShrinkCooldownSeconds);
  check.in_range("pressure.refault_backoff_pages", pressure.refault_backoff_pages, 1,
                 kMaxBurstThreshold);
  check.in_range("pressure.file_working_set_half_life_seconds",
                 pressure.file_working_set_half_life_seconds, 1, kMaxHalfLifeSeconds);
  check.in_range("pressure.headroom_min_mib", pressure.headroom_min_mib, 0, kMaxSizeMib);
  check.in_range("pressure.headroom_max_mib", pressure.headroom_max_mib, 0, kMaxSizeMib);
  if (pressure.headroom_max_mib < pressure.headroom_min_mib) {
    check.fail("pressure.headroom_max_mib", "must not be below headroom_min_mib");
  }
  check.in_range("pressure.spike_window_seconds", pressure.spike_window_seconds, 1,
                 kMaxBurstWindowSeconds);
  check.in_range("pressure.spike_half_life_seconds", pressure.spike_half_life_seconds, 1,
                 kMaxHalfLifeSeconds);
  check.in_range("pressure.balloon_rate_mib_per_s", pressure.balloon_rate_mib_per_s, 1,
                 kMaxBalloonRateMibPerS);
  check.in_range("pressure.swap_absorb_percent", pressure.swap_absorb_percent, 0, 100);

  std::set<std::string, std::less<>> seen_fields;
  for (std::size_t i = 0; i < config.vmstat_fields.size(); ++i) {
    const std::string& name = config.vmstat_fields[i];
    const std::string key_path = "vmstat_fields[" + std::to_string(i) + "]";
    if (!is_counter_name(name)) {
      check.fail(key_path,
                 "must be a /proc/vmstat counter name (letters, digits, _), got \"" + name + "\"");
    } else if (!seen_fields.insert(name).second) {
      check.fail(key_path, "\"" + name + "\" is listed twice");
    }
  }

  if (!has_valid_port(config.web.listen_address)) {
    check.fail("web.listen_address", "must be [host]:port with a port from 1 to 65535, got \"" +
                                         config.web.listen_address + "\"");
  }
  check.absolute_path("paths.procfs", config.paths.procfs);
  check.absolute_path("paths.sysfs", config.paths.sysfs);
  if (!config.pidfile.empty()) check.absolute_path("pidfile", config.pidfile);

  return check.take();
}

int ConfigOrigin::line_of(std::string_view key_path) const {
  auto it = lines.find(key_path);
  return it == lines.end() ? 0 : it->second;
}

std::string_view to_string(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kPressure:
      return "pressure";
    case PolicyKind::kPressureV2:
      return "pressure-v2";
    case PolicyKind::kClassic:
      return "classic";
    case PolicyKind::kKernel:
      return "kernel";
    case PolicyKind::kNone:
      return "none";
  }
  return "unknown";
}

std::string_view to_string(OnExit on_exit) {
  switch (on_exit) {
    case OnExit::kDom0Target:
      return "dom0-target";
    case OnExit::kStaticMax:
      return "static-max";
    case OnExit::kLeave:
      return "leave";
  }
  return "unknown";
}

std::string_view to_string(log::Level level) {
  switch (level) {
    case log::Level::kDebug:
      return "debug";
    case log::Level::kInfo:
      return "info";
    case log::Level::kWarning:
      return "warning";
    case log::Level::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace xenballoon
