#include <array>
#include <string>
#include <utility>

#include "xenballoon/config/agent_config.h"
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
    if (root.is_null()) return;
    if (!root.is_mapping()) {
      reader_.error(root.line(), "",
                    "expected a mapping of keys at the top level, got " + reader_.describe(root));
      return;
    }
    reader_.read_mapping(root, "", top_level_keys());
  }

 private:
  // Handlers bind a member of the config; the table order is the order of the docs.
  strict_yaml::Handler u64_field(std::uint64_t& field) {
    return [this, &field](const Field& f) { reader_.read_u64(f, field); };
  }
  strict_yaml::Handler double_field(double& field) {
    return [this, &field](const Field& f) { reader_.read_double(f, field); };
  }
  strict_yaml::Handler bool_field(bool& field) {
    return [this, &field](const Field& f) { reader_.read_bool(f, field); };
  }
  strict_yaml::Handler string_field(std::string& field) {
    return [this, &field](const Field& f) { reader_.read_string(f, field); };
  }
  strict_yaml::Handler block(KeyTable table) {
    return [this, table = std::move(table)](const Field& f) {
      reader_.read_mapping(f, table, "a mapping of keys");
    };
  }

  KeyTable pressure_keys() {
    PressureConfig& pressure = config_.pressure;
    return {
        {"reserve_mib", u64_field(pressure.reserve_mib)},
        {"psi_some_avg10_threshold", double_field(pressure.psi_some_avg10_threshold)},
        {"swapin_burst_pages", u64_field(pressure.swapin_burst_pages)},
        {"majfault_burst_count", u64_field(pressure.majfault_burst_count)},
        {"burst_window_seconds", u64_field(pressure.burst_window_seconds)},
        {"growth_headroom_mib", u64_field(pressure.growth_headroom_mib)},
        {"shrink_cooldown_seconds", u64_field(pressure.shrink_cooldown_seconds)},
    };
  }

  KeyTable web_keys() { return {{"listen_address", string_field(config_.web.listen_address)}}; }

  KeyTable paths_keys() {
    return {
        {"procfs", string_field(config_.paths.procfs)},
        {"sysfs", string_field(config_.paths.sysfs)},
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
    static constexpr std::array<std::pair<std::string_view, PolicyKind>, 2> kPolicies = {{
        {"pressure", PolicyKind::kPressure},
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
        {"selfballoon", bool_field(c.selfballoon)},
        {"interval_seconds", u64_field(c.interval_seconds)},
        {"publish_interval_seconds", u64_field(c.publish_interval_seconds)},
        {"minmem_mib", u64_field(c.minmem_mib)},
        {"uphysteresis", u64_field(c.uphysteresis)},
        {"downhysteresis", u64_field(c.downhysteresis)},
        {"pressure", block(pressure_keys())},
        {"on_exit", [this](const Field& f) { reader_.read_choice(f, kOnExit, config_.on_exit); }},
        {"vmstat_fields",
         [this](const Field& f) {
           reader_.read_string_list(f, "a list of strings (write [] for none)",
                                    config_.vmstat_fields);
         }},
        {"legacy_paths", bool_field(c.legacy_paths)},
        {"web", block(web_keys())},
        {"paths", block(paths_keys())},
        {"pidfile", string_field(c.pidfile)},
        {"log_level", [this](const Field& f) { read_log_level(f); }},
    };
  }

  AgentConfig& config_;
  strict_yaml::Reader& reader_;
};

}  // namespace

Result<AgentConfig> parse_agent_config(std::string_view yaml, std::string source_name) {
  AgentConfig config;
  config.origin.source_name = std::move(source_name);
  strict_yaml::Reader reader(config.origin.source_name, strict_yaml::QuotedScalars::kNamed);
  const std::optional<strict_yaml::Node> root =
      reader.parse_document(yaml, strict_yaml::DocumentRule::kAtMostOne);
  if (root) ConfigReader(config, reader).read_document(*root);
  if (reader.error_count() != 0) return Error{format_errors(reader.errors())};
  config.origin.lines = reader.lines();
  return config;
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse_agent_config(*text, path);
}

Result<AgentConfig> load_valid_agent_config(const std::string& path) {
  auto config = load_agent_config(path);
  if (!config) return config;
  std::vector<ConfigError> errors = validate(*config);
  if (!errors.empty()) return Error{format_errors(errors)};
  return config;
}

}  // namespace xenballoon
