#include <array>
#include <string>
#include <utility>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/config/reload.h"
#include "xenballoon/config/strict_yaml.h"
#include "xenballoon/util/file.h"

namespace xenballoon {
namespace {

using strict_yaml::Field;
using strict_yaml::KeyTable;

// Reads one document into a config, collecting every problem instead of stopping at the first.
class ConfigReader {
 public:
  ConfigReader(AgentConfig& config, strict_yaml::Reader& reader)
      : config_(config), reader_(reader) {}

  void read_document(const strict_yaml::Node& root) {
    reader_.read_top_level(root, top_level_keys());
  }

 private:
  // Handlers bind a member of the config (Reader::into); the table order is the order of the docs.
  KeyTable pressure_keys() {
    PressureConfig& pressure = config_.pressure;
    return {
        {"reserve_mib", reader_.into(pressure.reserve_mib)},
        {"psi_some_avg10_threshold", reader_.into(pressure.psi_some_avg10_threshold)},
        {"swapin_burst_pages", reader_.into(pressure.swapin_burst_pages)},
        {"majfault_burst_count", reader_.into(pressure.majfault_burst_count)},
        {"burst_window_seconds", reader_.into(pressure.burst_window_seconds)},
        {"growth_headroom_mib", reader_.into(pressure.growth_headroom_mib)},
        {"shrink_cooldown_seconds", reader_.into(pressure.shrink_cooldown_seconds)},
        {"stall_target_percent", reader_.into(pressure.stall_target_percent)},
        {"stall_backoff_percent", reader_.into(pressure.stall_backoff_percent)},
        {"stall_window_seconds", reader_.into(pressure.stall_window_seconds)},
        {"probe_percent", reader_.into(pressure.probe_percent)},
        {"backoff_cooldown_seconds", reader_.into(pressure.backoff_cooldown_seconds)},
        {"refault_backoff_pages", reader_.into(pressure.refault_backoff_pages)},
        {"file_working_set_half_life_seconds",
         reader_.into(pressure.file_working_set_half_life_seconds)},
        {"headroom_min_mib", reader_.into(pressure.headroom_min_mib)},
        {"headroom_max_mib", reader_.into(pressure.headroom_max_mib)},
        {"spike_window_seconds", reader_.into(pressure.spike_window_seconds)},
        {"spike_half_life_seconds", reader_.into(pressure.spike_half_life_seconds)},
        {"balloon_rate_mib_per_s", reader_.into(pressure.balloon_rate_mib_per_s)},
        {"swap_absorb_percent", reader_.into(pressure.swap_absorb_percent)},
    };
  }

  KeyTable web_keys() { return {{"listen_address", reader_.into(config_.web.listen_address)}}; }

  KeyTable paths_keys() {
    return {
        {"procfs", reader_.into(config_.paths.procfs)},
        {"sysfs", reader_.into(config_.paths.sysfs)},
    };
  }

  // The level names are log::parse_level's.
  void read_log_level(const Field& f) {
    constexpr std::string_view kExpected = "one of debug, info, warning, error";
    const std::optional<std::string> word = reader_.read_word(f, kExpected);
    if (!word) return;
    if (const std::optional<log::Level> level = log::parse_level(*word)) {
      config_.log_level = *level;
    } else {
      reader_.fail_expected(f, kExpected);
    }
  }

  KeyTable top_level_keys() {
    static constexpr std::array<std::pair<std::string_view, PolicyKind>, 3> kPolicies = {{
        {"pressure", PolicyKind::kPressure},
        {"pressure-v2", PolicyKind::kPressureV2},
        {"classic", PolicyKind::kClassic},
    }};
    static constexpr std::array<std::pair<std::string_view, OnExit>, 3> kOnExit = {{
        {"dom0-target", OnExit::kDom0Target},
        {"static-max", OnExit::kStaticMax},
        {"leave", OnExit::kLeave},
    }};
    AgentConfig& c = config_;
    return {
        {"policy", [this](const Field& f) { reader_.read_choice(f, kPolicies, config_.policy); }},
        {"selfballoon", reader_.into(c.selfballoon)},
        {"interval_seconds", reader_.into(c.interval_seconds)},
        {"publish_interval_seconds", reader_.into(c.publish_interval_seconds)},
        {"minmem_mib", reader_.into(c.minmem_mib)},
        {"uphysteresis", reader_.into(c.uphysteresis)},
        {"downhysteresis", reader_.into(c.downhysteresis)},
        {"pressure", reader_.mapping(pressure_keys())},
        {"on_exit", [this](const Field& f) { reader_.read_choice(f, kOnExit, config_.on_exit); }},
        {"vmstat_fields",
         [this](const Field& f) {
           reader_.read_string_list(f, "a list of strings (write [] for none)",
                                    config_.vmstat_fields);
         }},
        {"legacy_paths", reader_.into(c.legacy_paths)},
        {"web", reader_.mapping(web_keys())},
        {"paths", reader_.mapping(paths_keys())},
        {"pidfile", reader_.into(c.pidfile)},
        {"log_level", [this](const Field& f) { read_log_level(f); }},
    };
  }

  AgentConfig& config_;
  strict_yaml::Reader& reader_;
};

}  // namespace

Result<AgentConfig> parse_agent_config(std::string_view yaml, std::string source_name) {
  return config::parse_strict<AgentConfig>(
      yaml, std::move(source_name),
      [](auto& config, strict_yaml::Reader& reader, const strict_yaml::Node& root) {
        ConfigReader(config, reader).read_document(root);
      });
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  return config::load_file(path, &parse_agent_config);
}

Result<AgentConfig> load_valid_agent_config(const std::string& path) {
  auto config = load_agent_config(path);
  if (!config) return config;
  std::vector<ConfigError> errors = validate(*config);
  if (!errors.empty()) return Error{format_errors(errors)};
  return config;
}

}  // namespace xenballoon
