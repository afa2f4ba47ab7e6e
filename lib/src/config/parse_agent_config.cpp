#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <set>
#include <string>
#include <utility>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace xenballoon {
namespace {

// yaml-cpp tags a plain (unquoted, untagged) scalar "?" and a quoted one "!".
constexpr std::string_view kPlainScalarTag = "?";

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Collects every problem of one document instead of stopping at the first.
class ConfigReader {
 public:
  ConfigReader(AgentConfig& config, std::vector<ConfigError>& errors)
      : config_(config), errors_(errors) {}

  void read_document(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) return;
    if (!root.IsMap()) {
      error(line_of(root), "",
            "expected a mapping of keys at the top level, got " + describe(root));
      return;
    }
    read_map(root, "", top_level_keys());
  }

 private:
  using Handler =
      std::function<void(const YAML::Node& key, const YAML::Node& value, const std::string& path)>;
  using KeyTable = std::vector<std::pair<std::string_view, Handler>>;

  static int line_of(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? 0 : mark.line + 1;
  }

  // A null value's mark points past the key, and a block's at its first child: use the key's line.
  static int value_line(const YAML::Node& key, const YAML::Node& value) {
    return value.IsScalar() ? line_of(value) : line_of(key);
  }

  static std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
        return "nothing";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Scalar:
        if (node.Tag() == kPlainScalarTag) return "\"" + node.Scalar() + "\"";
        return "the quoted or tagged string \"" + node.Scalar() + "\"";
      case YAML::NodeType::Undefined:
        break;
    }
    return "nothing";
  }

  void error(int line, std::string path, std::string message) {
    errors_.push_back(
        ConfigError{config_.origin.source_name, line, std::move(path), std::move(message)});
  }

  void remember(const std::string& path, int line) { config_.origin.lines[path] = line; }

  void read_map(const YAML::Node& map, const std::string& parent, const KeyTable& table) {
    std::set<std::string, std::less<>> seen;
    for (const auto& entry : map) {
      const YAML::Node key = entry.first;
      const YAML::Node value = entry.second;
      if (!key.IsScalar()) {
        error(line_of(key), parent, "keys must be plain words, got " + describe(key));
        continue;
      }
      const std::string path = join_path(parent, key.Scalar());
      if (!seen.insert(key.Scalar()).second) {
        error(line_of(key), path, "duplicate key");
        continue;
      }
      auto handler = std::find_if(table.begin(), table.end(),
                                  [&](const auto& entry) { return entry.first == key.Scalar(); });
      if (handler == table.end()) {
        error(line_of(key), path, "unknown key");
        continue;
      }
      remember(path, value_line(key, value));
      handler->second(key, value, path);
    }
  }

  bool expect_plain_scalar(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                           std::string_view expected) {
    if (value.IsScalar() && value.Tag() == kPlainScalarTag) return true;
    error(value_line(key, value), path,
          "expected " + std::string(expected) + ", got " + describe(value));
    return false;
  }

  void read_u64(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                std::uint64_t& out) {
    constexpr std::string_view kExpected = "a non-negative integer";
    if (!expect_plain_scalar(key, value, path, kExpected)) return;
    if (auto number = parse_u64(value.Scalar())) {
      out = *number;
      return;
    }
    error(line_of(value), path, "expected " + std::string(kExpected) + ", got " + describe(value));
  }

  void read_double(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                   double& out) {
    constexpr std::string_view kExpected = "a number";
    if (!expect_plain_scalar(key, value, path, kExpected)) return;
    if (auto number = parse_double(value.Scalar())) {
      out = *number;
      return;
    }
    error(line_of(value), path, "expected " + std::string(kExpected) + ", got " + describe(value));
  }

  void read_bool(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                 bool& out) {
    constexpr std::string_view kExpected = "true or false";
    if (!expect_plain_scalar(key, value, path, kExpected)) return;
    const std::string word = lowercase(value.Scalar());
    if (word == "true" || word == "yes" || word == "on") {
      out = true;
    } else if (word == "false" || word == "no" || word == "off") {
      out = false;
    } else {
      error(line_of(value), path,
            "expected " + std::string(kExpected) + ", got " + describe(value));
    }
  }

  void read_string(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                   std::string& out) {
    if (!value.IsScalar()) {
      error(value_line(key, value), path, "expected a string, got " + describe(value));
      return;
    }
    out = value.Scalar();
  }

  template <typename Enum, std::size_t N>
  void read_enum(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                 const std::array<std::pair<std::string_view, Enum>, N>& choices, Enum& out) {
    std::string expected = "one of";
    for (std::size_t i = 0; i < N; ++i) {
      expected += (i == 0 ? " " : ", ") + std::string(choices[i].first);
    }
    if (!expect_plain_scalar(key, value, path, expected)) return;
    for (const auto& [name, choice] : choices) {
      if (value.Scalar() == name) {
        out = choice;
        return;
      }
    }
    error(line_of(value), path, "expected " + expected + ", got " + describe(value));
  }

  void read_string_list(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                        std::vector<std::string>& out) {
    if (!value.IsSequence()) {
      error(value_line(key, value), path,
            "expected a list of strings (write [] for none), got " + describe(value));
      return;
    }
    std::vector<std::string> items;
    bool all_ok = true;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const YAML::Node item = value[i];
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (!item.IsScalar()) {
        error(line_of(item) != 0 ? line_of(item) : line_of(key), item_path,
              "expected a string, got " + describe(item));
        all_ok = false;
        continue;
      }
      remember(item_path, line_of(item));
      items.push_back(item.Scalar());
    }
    if (all_ok) out = std::move(items);
  }

  void read_block(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                  const KeyTable& table) {
    if (!value.IsMap()) {
      error(value_line(key, value), path, "expected a mapping of keys, got " + describe(value));
      return;
    }
    read_map(value, path, table);
  }

  // Handlers bind a member of the config; the table order is the order of the docs.
  Handler u64_field(std::uint64_t& field) {
    return
        [this, &field](const auto& k, const auto& v, const auto& p) { read_u64(k, v, p, field); };
  }
  Handler double_field(double& field) {
    return [this, &field](const auto& k, const auto& v, const auto& p) {
      read_double(k, v, p, field);
    };
  }
  Handler bool_field(bool& field) {
    return
        [this, &field](const auto& k, const auto& v, const auto& p) { read_bool(k, v, p, field); };
  }
  Handler string_field(std::string& field) {
    return [this, &field](const auto& k, const auto& v, const auto& p) {
      read_string(k, v, p, field);
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
    static constexpr std::array<std::pair<std::string_view, LogLevel>, 4> kLogLevels = {{
        {"debug", LogLevel::kDebug},
        {"info", LogLevel::kInfo},
        {"warning", LogLevel::kWarning},
        {"error", LogLevel::kError},
    }};
    AgentConfig& c = config_;
    return {
        {"policy", [this](const auto& k, const auto& v,
                          const auto& p) { read_enum(k, v, p, kPolicies, config_.policy); }},
        {"selfballoon", bool_field(c.selfballoon)},
        {"interval_seconds", u64_field(c.interval_seconds)},
        {"publish_interval_seconds", u64_field(c.publish_interval_seconds)},
        {"minmem_mib", u64_field(c.minmem_mib)},
        {"uphysteresis", u64_field(c.uphysteresis)},
        {"downhysteresis", u64_field(c.downhysteresis)},
        {"pressure", [this](const auto& k, const auto& v,
                            const auto& p) { read_block(k, v, p, pressure_keys()); }},
        {"on_exit", [this](const auto& k, const auto& v,
                           const auto& p) { read_enum(k, v, p, kOnExit, config_.on_exit); }},
        {"vmstat_fields",
         [this](const auto& k, const auto& v, const auto& p) {
           read_string_list(k, v, p, config_.vmstat_fields);
         }},
        {"legacy_paths", bool_field(c.legacy_paths)},
        {"web",
         [this](const auto& k, const auto& v, const auto& p) { read_block(k, v, p, web_keys()); }},
        {"paths", [this](const auto& k, const auto& v,
                         const auto& p) { read_block(k, v, p, paths_keys()); }},
        {"pidfile", string_field(c.pidfile)},
        {"log_level", [this](const auto& k, const auto& v,
                             const auto& p) { read_enum(k, v, p, kLogLevels, config_.log_level); }},
    };
  }

  AgentConfig& config_;
  std::vector<ConfigError>& errors_;
};

}  // namespace

Result<AgentConfig> parse_agent_config(std::string_view yaml, std::string source_name) {
  AgentConfig config;
  config.origin.source_name = std::move(source_name);
  std::vector<ConfigError> errors;

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    errors.push_back(
        ConfigError{config.origin.source_name, line, "", "YAML syntax error: " + e.msg});
    return Error{format_errors(errors)};
  }
  if (documents.size() > 1) {
    const YAML::Mark second = documents[1].Mark();
    errors.push_back(
        ConfigError{config.origin.source_name, second.is_null() ? 0 : second.line + 1, "",
                    "expected one YAML document, found " + std::to_string(documents.size())});
  }
  if (!documents.empty()) ConfigReader(config, errors).read_document(documents.front());
  if (!errors.empty()) return Error{format_errors(errors)};
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
