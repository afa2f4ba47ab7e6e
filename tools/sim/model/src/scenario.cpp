#include "xenballoon/sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim {
namespace {

// yaml-cpp tags a plain (unquoted, untagged) scalar "?".
constexpr std::string_view kPlainScalarTag = "?";
constexpr double kSecondsPerHour = 3600;
constexpr double kSecondsPerMinute = 60;
constexpr std::uint64_t kMaxSizeMib = std::uint64_t{1} << 24;  // 16 TiB: beyond is a typo
constexpr double kMaxDurationHours = 24 * 366;

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::uint64_t seconds_from(double amount, double seconds_per_unit) {
  return static_cast<std::uint64_t>(std::llround(amount * seconds_per_unit));
}

// Reads one document, collecting every problem instead of stopping at the first.
class ScenarioReader {
 public:
  ScenarioReader(std::string source_name, std::vector<ConfigError>& errors)
      : source_name_(std::move(source_name)), errors_(errors) {}

  Scenario read(const YAML::Node& root) {
    Scenario scenario;
    if (!root.IsDefined() || root.IsNull() || !root.IsMap()) {
      error(line_of(root), "", "expected a mapping with name, host and guests");
      return scenario;
    }
    double duration_hours = 24;
    read_map(root, "", line_of(root),
             {{"name", [&](auto& k, auto& v, auto& p) { read_name(k, v, p, scenario.name); }},
              {"description",
               [&](auto& k, auto& v, auto& p) { read_string(k, v, p, scenario.description); }},
              {"duration_hours",
               [&](auto& k, auto& v, auto& p) {
                 read_double(k, v, p, 1.0 / kSecondsPerHour, kMaxDurationHours, duration_hours);
               }},
              {"host", [&](auto& k, auto& v, auto& p) { read_host(k, v, p, scenario.host); }},
              {"guests", [&](auto& k, auto& v, auto& p) { read_guests(k, v, p, scenario); }}},
             {"name", "host", "guests"});
    scenario.duration_seconds = seconds_from(duration_hours, kSecondsPerHour);
    check_scenario(scenario);
    return scenario;
  }

 private:
  using Handler =
      std::function<void(const YAML::Node& key, const YAML::Node& value, const std::string& path)>;
  using KeyTable = std::vector<std::pair<std::string_view, Handler>>;

  static int line_of(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? 0 : mark.line + 1;
  }

  // A null value's mark points past the key, and a block's at its first child: use the key's.
  static int value_line(const YAML::Node& key, const YAML::Node& value) {
    return value.IsScalar() ? line_of(value) : line_of(key);
  }

  static std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Scalar:
        return "\"" + node.Scalar() + "\"";
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        break;
    }
    return "nothing";
  }

  void error(int line, std::string path, std::string message) {
    errors_.push_back(ConfigError{source_name_, line, std::move(path), std::move(message)});
  }

  int line_at(const std::string& path) const {
    const auto found = lines_.find(path);
    return found == lines_.end() ? 0 : found->second;
  }

  // `map_line` locates "missing key" errors: the line of the key that holds the mapping.
  void read_map(const YAML::Node& map, const std::string& parent, int map_line,
                const KeyTable& table, const std::vector<std::string_view>& required) {
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
      const auto handler = std::find_if(table.begin(), table.end(), [&](const auto& candidate) {
        return candidate.first == key.Scalar();
      });
      if (handler == table.end()) {
        error(line_of(key), path, "unknown key");
        continue;
      }
      lines_[path] = value_line(key, value);
      handler->second(key, value, path);
    }
    for (std::string_view name : required) {
      if (!seen.contains(name)) error(map_line, join_path(parent, name), "missing key");
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
                std::uint64_t low, std::uint64_t high, std::uint64_t& out) {
    const std::string expected =
        "an integer from " + std::to_string(low) + " to " + std::to_string(high);
    if (!expect_plain_scalar(key, value, path, expected)) return;
    const auto number = parse_u64(value.Scalar());
    if (!number || *number < low || *number > high) {
      error(line_of(value), path, "expected " + expected + ", got " + describe(value));
      return;
    }
    out = *number;
  }

  void read_double(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                   double low, double high, double& out) {
    const std::string expected = "a number from " + format(low) + " to " + format(high);
    if (!expect_plain_scalar(key, value, path, expected)) return;
    const auto number = parse_double(value.Scalar());
    if (!number || *number < low || *number > high) {
      error(line_of(value), path, "expected " + expected + ", got " + describe(value));
      return;
    }
    out = *number;
  }

  static std::string format(double number) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", number);
    return text;
  }

  void read_string(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                   std::string& out) {
    if (!value.IsScalar()) {
      error(value_line(key, value), path, "expected a string, got " + describe(value));
      return;
    }
    out = value.Scalar();
  }

  // Names become file and directory names in the live demo: keep them plain.
  void read_name(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                 std::string& out) {
    std::string name;
    read_string(key, value, path, name);
    const bool plain = !name.empty() && name.size() <= 64 &&
                       std::all_of(name.begin(), name.end(),
                                   [](char c) {
                                     return std::isalnum(static_cast<unsigned char>(c)) ||
                                            c == '-' || c == '_' || c == '.';
                                   }) &&
                       name.front() != '.';
    if (value.IsScalar() && !plain) {
      error(line_of(value), path,
            "expected a name of letters, digits, '-', '_' and '.' (not first), at most 64, got " +
                describe(value));
      return;
    }
    out = name;
  }

  void read_hours_list(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                       std::vector<std::uint64_t>& out_seconds) {
    if (!value.IsSequence()) {
      error(value_line(key, value), path, "expected a list of hours, got " + describe(value));
      return;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      double hours = 0;
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      const std::size_t errors_before = errors_.size();
      read_double(key, value[i], item_path, 0, kMaxDurationHours, hours);
      if (errors_.size() == errors_before) {
        out_seconds.push_back(seconds_from(hours, kSecondsPerHour));
      }
    }
  }

  void read_host(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                 HostSpec& host) {
    if (!value.IsMap()) {
      error(value_line(key, value), path, "expected a mapping, got " + describe(value));
      return;
    }
    read_map(value, path, line_of(key),
             {{"memory_mib", [&](auto& k, auto& v,
                                 auto& p) { read_u64(k, v, p, 1, kMaxSizeMib, host.memory_mib); }},
              {"balloon_rate_mib_per_s",
               [&](auto& k, auto& v, auto& p) {
                 read_u64(k, v, p, 1, kMaxSizeMib, host.balloon_rate_mib_per_s);
               }}},
             {"memory_mib"});
  }

  void read_guests(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                   Scenario& scenario) {
    if (!value.IsSequence() || value.size() == 0) {
      error(value_line(key, value), path, "expected a list of guests, got " + describe(value));
      return;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string guest_path = path + "[" + std::to_string(i) + "]";
      const YAML::Node item = value[i];
      lines_[guest_path] = line_of(item);
      if (!item.IsMap()) {
        error(line_of(item) != 0 ? line_of(item) : line_of(key), guest_path,
              "expected a mapping, got " + describe(item));
        continue;
      }
      scenario.guests.push_back(read_guest(item, guest_path));
    }
  }

  GuestSpec read_guest(const YAML::Node& node, const std::string& path) {
    GuestSpec guest;
    read_map(
        node, path, line_of(node),
        {{"name", [&](auto& k, auto& v, auto& p) { read_name(k, v, p, guest.name); }},
         {"static_max_mib",
          [&](auto& k, auto& v, auto& p) {
            read_u64(k, v, p, 1, kMaxSizeMib, guest.static_max_mib);
          }},
         {"memory_mib",
          [&](auto& k, auto& v, auto& p) { read_u64(k, v, p, 1, kMaxSizeMib, guest.memory_mib); }},
         {"swap_mib",
          [&](auto& k, auto& v, auto& p) { read_u64(k, v, p, 0, kMaxSizeMib, guest.swap_mib); }},
         {"working_set_mib",
          [&](auto& k, auto& v, auto& p) {
            read_u64(k, v, p, 0, kMaxSizeMib, guest.working_set_mib);
          }},
         {"seed",
          [&](auto& k, auto& v, auto& p) {
            read_u64(k, v, p, 0, std::numeric_limits<std::uint64_t>::max(), guest.seed);
          }},
         {"disk_latency_us",
          [&](auto& k, auto& v, auto& p) {
            read_u64(k, v, p, 1, 1'000'000, guest.disk_latency_us);
          }},
         {"kernel_reserved_mib",
          [&](auto& k, auto& v, auto& p) {
            std::uint64_t mib = 0;
            read_u64(k, v, p, 1, kMaxSizeMib, mib);
            if (mib != 0) guest.kernel_reserved_kib = mib * kKibPerMib;
          }},
         {"workload", [&](auto& k, auto& v, auto& p) { read_workload(k, v, p, guest.workload); }}},
        {"name", "static_max_mib", "memory_mib", "swap_mib", "working_set_mib", "seed",
         "workload"});
    return guest;
  }

  void read_workload(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                     WorkloadSpec& workload) {
    if (!value.IsMap()) {
      error(value_line(key, value), path, "expected a mapping, got " + describe(value));
      return;
    }
    const YAML::Node type = value["type"];
    if (!type.IsDefined()) {
      error(line_of(key), path + ".type", "missing key (steady, diurnal, spike, leak or batch)");
      return;
    }
    static constexpr std::pair<std::string_view, WorkloadKind> kKinds[] = {
        {"steady", WorkloadKind::kSteady},
        {"diurnal", WorkloadKind::kDiurnal},
        {"spike", WorkloadKind::kSpike},
        {"leak", WorkloadKind::kLeak},
        {"batch", WorkloadKind::kBatch}};
    const auto kind = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const auto& entry) {
      return type.IsScalar() && type.Scalar() == entry.first;
    });
    if (kind == std::end(kKinds)) {
      error(value_line(key, type), path + ".type",
            "expected steady, diurnal, spike, leak or batch, got " + describe(type));
      return;
    }
    workload.kind = kind->second;

    auto size = [&](std::uint64_t& out) {
      return [&](auto& k, auto& v, auto& p) { read_u64(k, v, p, 0, kMaxSizeMib, out); };
    };
    KeyTable table = {
        {"type", [](auto&, auto&, auto&) {}},
        {"noise_mib", size(workload.noise_mib)},
        {"restart_delay_seconds",
         [&](auto& k, auto& v, auto& p) {
           read_u64(k, v, p, 0, 86400, workload.restart_delay_seconds);
         }},
        {"access", [&](auto& k, auto& v, auto& p) { read_access(k, v, p, workload.access); }},
    };
    std::vector<std::string_view> required = {"type"};
    auto add = [&](std::string_view name, Handler handler, bool is_required) {
      table.emplace_back(name, std::move(handler));
      if (is_required) required.push_back(name);
    };
    auto hours = [&](std::uint64_t& out_seconds) {
      return [&](auto& k, auto& v, auto& p) {
        double amount = 0;
        const std::size_t before = errors_.size();
        read_double(k, v, p, 0, kMaxDurationHours, amount);
        if (errors_.size() == before) out_seconds = seconds_from(amount, kSecondsPerHour);
      };
    };
    auto minutes = [&](std::uint64_t& out_seconds, double low) {
      return [&, low](auto& k, auto& v, auto& p) {
        double amount = 0;
        const std::size_t before = errors_.size();
        read_double(k, v, p, low, kMaxDurationHours * 60, amount);
        if (errors_.size() == before) out_seconds = seconds_from(amount, kSecondsPerMinute);
      };
    };
    auto ramp = [&](auto& k, auto& v, auto& p) {
      read_u64(k, v, p, 0, 86400, workload.ramp_seconds);
    };

    switch (workload.kind) {
      case WorkloadKind::kSteady:
        add("base_mib", size(workload.base_mib), true);
        break;
      case WorkloadKind::kDiurnal:
        add("low_mib", size(workload.low_mib), true);
        add("high_mib", size(workload.high_mib), true);
        add(
            "peak_hour",
            [&](auto& k, auto& v, auto& p) {
              double hour = 14;
              const std::size_t before = errors_.size();
              read_double(k, v, p, 0, 23.999, hour);
              if (errors_.size() == before) {
                workload.peak_second = seconds_from(hour, kSecondsPerHour);
              }
            },
            false);
        break;
      case WorkloadKind::kSpike:
        add("base_mib", size(workload.base_mib), true);
        add("spike_mib", size(workload.spike_mib), true);
        add(
            "spike_at_hours",
            [&](auto& k, auto& v, auto& p) { read_hours_list(k, v, p, workload.spike_at_seconds); },
            true);
        add("ramp_seconds", ramp, false);
        add("hold_minutes", minutes(workload.hold_seconds, 0), false);
        break;
      case WorkloadKind::kLeak:
        add("base_mib", size(workload.base_mib), true);
        add(
            "leak_mib_per_hour",
            [&](auto& k, auto& v, auto& p) {
              read_double(k, v, p, 0, 1e6, workload.leak_mib_per_hour);
            },
            true);
        add("restart_every_hours", hours(workload.restart_every_seconds), false);
        break;
      case WorkloadKind::kBatch:
        add("base_mib", size(workload.base_mib), true);
        add("batch_mib", size(workload.batch_mib), true);
        add("period_minutes", minutes(workload.period_seconds, 1), true);
        add("run_minutes", minutes(workload.run_seconds, 0), true);
        add("first_at_minutes", minutes(workload.first_at_seconds, 0), false);
        add("ramp_seconds", ramp, false);
        break;
    }
    const std::size_t before = errors_.size();
    read_map(value, path, line_of(key), table, required);
    if (errors_.size() != before) return;

    if (workload.kind == WorkloadKind::kDiurnal && workload.low_mib > workload.high_mib) {
      error(line_at(path + ".high_mib"), path + ".high_mib",
            "must not be below low_mib (" + std::to_string(workload.low_mib) + ")");
    }
    if (workload.kind == WorkloadKind::kBatch && workload.run_seconds > workload.period_seconds) {
      error(line_at(path + ".run_minutes"), path + ".run_minutes",
            "must not be longer than period_minutes");
    }
  }

  void read_access(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                   AccessPattern& access) {
    if (!value.IsMap()) {
      error(value_line(key, value), path, "expected a mapping, got " + describe(value));
      return;
    }
    auto percent = [&](double& out) {
      return [&](auto& k, auto& v, auto& p) { read_double(k, v, p, 0, 100, out); };
    };
    read_map(value, path, line_of(key),
             {{"hot_percent", percent(access.hot_percent)},
              {"hot_touch_percent_per_s", percent(access.hot_touch_percent_per_s)},
              {"cold_touch_percent_per_s", percent(access.cold_touch_percent_per_s)},
              {"file_touch_percent_per_s", percent(access.file_touch_percent_per_s)},
              {"file_mapped_percent", percent(access.file_mapped_percent)}},
             {});
  }

  void check_scenario(const Scenario& scenario) {
    std::set<std::string, std::less<>> names;
    std::uint64_t boot_total_mib = 0;
    for (std::size_t i = 0; i < scenario.guests.size(); ++i) {
      const GuestSpec& guest = scenario.guests[i];
      const std::string path = "guests[" + std::to_string(i) + "]";
      if (!guest.name.empty() && !names.insert(guest.name).second) {
        error(line_at(path + ".name"), path + ".name",
              "another guest is already called \"" + guest.name + "\"");
      }
      if (guest.memory_mib > guest.static_max_mib && guest.static_max_mib != 0) {
        error(line_at(path + ".memory_mib"), path + ".memory_mib",
              "must not be above static_max_mib (" + std::to_string(guest.static_max_mib) + ")");
      }
      boot_total_mib += guest.memory_mib;
      for (std::size_t s = 0; s < guest.workload.spike_at_seconds.size(); ++s) {
        if (guest.workload.spike_at_seconds[s] >= scenario.duration_seconds) {
          const std::string spike_path = path + ".workload.spike_at_hours";
          error(line_at(spike_path), spike_path,
                "spike " + std::to_string(s) + " starts after the scenario ends");
        }
      }
    }
    if (scenario.host.memory_mib != 0 && boot_total_mib > scenario.host.memory_mib) {
      error(line_at("host.memory_mib"), "host.memory_mib",
            "the guests boot with " + std::to_string(boot_total_mib) +
                " MiB together, more than the host's " + std::to_string(scenario.host.memory_mib) +
                " MiB");
    }
  }

  std::string source_name_;
  std::vector<ConfigError>& errors_;
  std::map<std::string, int, std::less<>> lines_;
};

}  // namespace

Result<Scenario> parse_scenario(std::string_view yaml, std::string source_name) {
  std::vector<ConfigError> errors;
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    errors.push_back(ConfigError{source_name, line, "", "YAML syntax error: " + e.msg});
    return Error{format_errors(errors)};
  }
  if (documents.size() != 1) {
    errors.push_back(
        ConfigError{source_name, 0, "",
                    "expected one YAML document, found " + std::to_string(documents.size())});
    return Error{format_errors(errors)};
  }
  Scenario scenario = ScenarioReader(source_name, errors).read(documents.front());
  if (!errors.empty()) return Error{format_errors(errors)};
  return scenario;
}

Result<Scenario> load_scenario(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse_scenario(*text, path);
}

Scenario with_seed(Scenario scenario, std::uint64_t seed) {
  if (seed == 0) return scenario;
  for (GuestSpec& guest : scenario.guests) {
    guest.seed ^= seed * 0x9e3779b97f4a7c15ULL;
  }
  return scenario;
}

}  // namespace xenballoon::sim
