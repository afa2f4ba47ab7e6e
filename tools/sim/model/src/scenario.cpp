#include "xenballoon/sim/scenario.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "xenballoon/config/config_error.h"
#include "xenballoon/config/strict_yaml.h"
#include "xenballoon/util/file.h"

namespace xenballoon::sim {
namespace {

using strict_yaml::Field;
using strict_yaml::Handler;
using strict_yaml::KeyTable;

constexpr double kSecondsPerHour = 3600;
constexpr double kSecondsPerMinute = 60;
constexpr std::uint64_t kMaxSizeMib = std::uint64_t{1} << 24;  // 16 TiB: beyond is a typo
constexpr double kMaxDurationHours = 24 * 366;

std::uint64_t seconds_from(double amount, double seconds_per_unit) {
  return static_cast<std::uint64_t>(std::llround(amount * seconds_per_unit));
}

// Reads one document, collecting every problem instead of stopping at the first.
class ScenarioReader {
 public:
  explicit ScenarioReader(strict_yaml::Reader& reader) : reader_(reader) {}

  Scenario read(const strict_yaml::Node& root) {
    Scenario scenario;
    if (!root.is_mapping()) {
      reader_.error(root.line(), "", "expected a mapping with name, host and guests");
      return scenario;
    }
    double duration_hours = 24;
    reader_.read_mapping(
        root, "",
        {{"name", [&](const Field& f) { read_name(f, scenario.name); }, true},
         {"description", [&](const Field& f) { reader_.read_string(f, scenario.description); }},
         {"duration_hours",
          [&](const Field& f) {
            reader_.read_double_between(f, 1.0 / kSecondsPerHour, kMaxDurationHours,
                                        duration_hours);
          }},
         {"host", [&](const Field& f) { read_host(f, scenario.host); }, true},
         {"guests", [&](const Field& f) { read_guests(f, scenario); }, true}},
        root.line());
    scenario.duration_seconds = seconds_from(duration_hours, kSecondsPerHour);
    check_scenario(scenario);
    return scenario;
  }

 private:
  Handler size(std::uint64_t low, std::uint64_t& out) {
    return
        [this, low, &out](const Field& f) { reader_.read_u64_between(f, low, kMaxSizeMib, out); };
  }

  // Names become file and directory names in the live demo: keep them plain.
  void read_name(const Field& f, std::string& out) {
    std::string name;
    reader_.read_string(f, name);
    const bool plain = !name.empty() && name.size() <= 64 &&
                       std::all_of(name.begin(), name.end(),
                                   [](char c) {
                                     return std::isalnum(static_cast<unsigned char>(c)) ||
                                            c == '-' || c == '_' || c == '.';
                                   }) &&
                       name.front() != '.';
    if (f.value.is_scalar() && !plain) {
      reader_.fail_expected(f,
                            "a name of letters, digits, '-', '_' and '.' (not first), at most 64");
      return;
    }
    out = name;
  }

  void read_hours_list(const Field& f, std::vector<std::uint64_t>& out_seconds) {
    if (!f.value.is_list()) {
      reader_.fail_expected(f, "a list of hours");
      return;
    }
    for (const Field& item : strict_yaml::list_items(f)) {
      double hours = 0;
      if (reader_.read_double_between(item, 0, kMaxDurationHours, hours)) {
        out_seconds.push_back(seconds_from(hours, kSecondsPerHour));
      }
    }
  }

  void read_host(const Field& f, HostSpec& host) {
    reader_.read_mapping(f, {{"memory_mib", size(1, host.memory_mib), true},
                             {"balloon_rate_mib_per_s", size(1, host.balloon_rate_mib_per_s)}});
  }

  void read_guests(const Field& f, Scenario& scenario) {
    if (!f.value.is_list() || f.value.items().empty()) {
      reader_.fail_expected(f, "a list of guests");
      return;
    }
    for (const Field& item : strict_yaml::list_items(f)) {
      reader_.remember(item.path, item.value.line());
      if (!item.value.is_mapping()) {
        reader_.error(item.own_line(), item.path,
                      "expected a mapping, got " + reader_.describe(item.value));
        continue;
      }
      scenario.guests.push_back(read_guest(item.value, item.path));
    }
  }

  GuestSpec read_guest(const strict_yaml::Node& node, const std::string& path) {
    GuestSpec guest;
    reader_.read_mapping(
        node, path,
        {{"name", [&](const Field& f) { read_name(f, guest.name); }, true},
         {"static_max_mib", size(1, guest.static_max_mib), true},
         {"memory_mib", size(1, guest.memory_mib), true},
         {"boot_mib", size(1, guest.boot_mib)},
         {"swap_mib", size(0, guest.swap_mib), true},
         {"working_set_mib", size(0, guest.working_set_mib), true},
         {"working_set_peak_mib", size(0, guest.working_set_peak_mib)},
         {"swap_write_mib_per_s", size(0, guest.swap_write_mib_per_s)},
         {"seed",
          [&](const Field& f) {
            reader_.read_u64_between(f, 0, std::numeric_limits<std::uint64_t>::max(), guest.seed);
          },
          true},
         {"disk_latency_us",
          [&](const Field& f) {
            reader_.read_u64_between(f, 1, 1'000'000, guest.disk_latency_us);
          }},
         {"reclaim_ns_per_page",
          [&](const Field& f) {
            reader_.read_u64_between(f, 0, 1'000'000, guest.reclaim_ns_per_page);
          }},
         {"kernel_reserved_mib",
          [&](const Field& f) {
            std::uint64_t mib = 0;
            reader_.read_u64_between(f, 1, kMaxSizeMib, mib);
            if (mib != 0) guest.kernel_reserved_kib = mib * kKibPerMib;
          }},
         {"workload", [&](const Field& f) { read_workload(f, guest.workload); }, true}},
        node.line());
    return guest;
  }

  void read_workload(const Field& f, WorkloadSpec& workload) {
    if (!f.value.is_mapping()) {
      reader_.fail_expected(f, "a mapping");
      return;
    }
    const std::optional<strict_yaml::Node> type = f.value.find("type");
    if (!type) {
      reader_.error(f.key.line(), f.path + ".type",
                    "missing key (steady, diurnal, spike, leak or batch)");
      return;
    }
    static constexpr std::pair<std::string_view, WorkloadKind> kKinds[] = {
        {"steady", WorkloadKind::kSteady},
        {"diurnal", WorkloadKind::kDiurnal},
        {"spike", WorkloadKind::kSpike},
        {"leak", WorkloadKind::kLeak},
        {"batch", WorkloadKind::kBatch}};
    const auto kind = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const auto& entry) {
      return type->is_scalar() && type->text() == entry.first;
    });
    if (kind == std::end(kKinds)) {
      reader_.fail_expected(Field{f.key, *type, f.path + ".type"},
                            "steady, diurnal, spike, leak or batch");
      return;
    }
    workload.kind = kind->second;

    auto hours = [&](std::uint64_t& out_seconds) {
      return [&](const Field& field) {
        double amount = 0;
        if (reader_.read_double_between(field, 0, kMaxDurationHours, amount)) {
          out_seconds = seconds_from(amount, kSecondsPerHour);
        }
      };
    };
    auto minutes = [&](std::uint64_t& out_seconds, double low) {
      return [&, low](const Field& field) {
        double amount = 0;
        if (reader_.read_double_between(field, low, kMaxDurationHours * 60, amount)) {
          out_seconds = seconds_from(amount, kSecondsPerMinute);
        }
      };
    };
    auto ramp = [&](const Field& field) {
      reader_.read_u64_between(field, 0, 86400, workload.ramp_seconds);
    };

    KeyTable table = {
        {"type", [](const Field&) {}, true},
        {"noise_mib", size(0, workload.noise_mib)},
        {"jitter_mib", size(0, workload.jitter_mib)},
        {"restart_delay_seconds",
         [&](const Field& field) {
           reader_.read_u64_between(field, 0, 86400, workload.restart_delay_seconds);
         }},
        {"access", [&](const Field& field) { read_access(field, workload.access); }},
    };
    auto add = [&](std::string_view name, Handler handler, bool required) {
      table.push_back({name, std::move(handler), required});
    };
    switch (workload.kind) {
      case WorkloadKind::kSteady:
        add("base_mib", size(0, workload.base_mib), true);
        break;
      case WorkloadKind::kDiurnal:
        add("low_mib", size(0, workload.low_mib), true);
        add("high_mib", size(0, workload.high_mib), true);
        add(
            "peak_hour",
            [&](const Field& field) {
              double hour = 14;
              if (reader_.read_double_between(field, 0, 23.999, hour)) {
                workload.peak_second = seconds_from(hour, kSecondsPerHour);
              }
            },
            false);
        break;
      case WorkloadKind::kSpike:
        add("base_mib", size(0, workload.base_mib), true);
        add("spike_mib", size(0, workload.spike_mib), true);
        add(
            "spike_at_hours",
            [&](const Field& field) { read_hours_list(field, workload.spike_at_seconds); }, true);
        add("ramp_seconds", ramp, false);
        add("hold_minutes", minutes(workload.hold_seconds, 0), false);
        break;
      case WorkloadKind::kLeak:
        add("base_mib", size(0, workload.base_mib), true);
        add(
            "leak_mib_per_hour",
            [&](const Field& field) {
              reader_.read_double_between(field, 0, 1e6, workload.leak_mib_per_hour);
            },
            true);
        add("restart_every_hours", hours(workload.restart_every_seconds), false);
        break;
      case WorkloadKind::kBatch:
        add("base_mib", size(0, workload.base_mib), true);
        add("batch_mib", size(0, workload.batch_mib), true);
        add("period_minutes", minutes(workload.period_seconds, 1), true);
        add("run_minutes", minutes(workload.run_seconds, 0), true);
        add("first_at_minutes", minutes(workload.first_at_seconds, 0), false);
        add("ramp_seconds", ramp, false);
        break;
    }
    const std::size_t before = reader_.error_count();
    reader_.read_mapping(f, table);
    if (reader_.error_count() != before) return;

    const std::string& path = f.path;
    if (workload.kind == WorkloadKind::kDiurnal && workload.low_mib > workload.high_mib) {
      reader_.error(reader_.line_at(path + ".high_mib"), path + ".high_mib",
                    "must not be below low_mib (" + std::to_string(workload.low_mib) + ")");
    }
    if (workload.kind == WorkloadKind::kBatch && workload.run_seconds > workload.period_seconds) {
      reader_.error(reader_.line_at(path + ".run_minutes"), path + ".run_minutes",
                    "must not be longer than period_minutes");
    }
  }

  void read_access(const Field& f, AccessPattern& access) {
    auto percent = [&](double& out) {
      return [&](const Field& field) { reader_.read_double_between(field, 0, 100, out); };
    };
    auto seconds = [&](std::uint64_t& out) {
      return [&](const Field& field) { reader_.read_u64_between(field, 0, 10 * 365 * 86400, out); };
    };
    reader_.read_mapping(f, {{"hot_percent", percent(access.hot_percent)},
                             {"hot_touch_percent_per_s", percent(access.hot_touch_percent_per_s)},
                             {"cold_touch_percent_per_s", percent(access.cold_touch_percent_per_s)},
                             {"file_touch_percent_per_s", percent(access.file_touch_percent_per_s)},
                             {"file_mapped_percent", percent(access.file_mapped_percent)},
                             {"file_zipf_exponent",
                              [&](const Field& field) {
                                reader_.read_double_between(field, 0, 4, access.file_zipf_exponent);
                              }},
                             {"file_stream_mib_per_s",
                              [&](const Field& field) {
                                reader_.read_double_between(field, 0, 1e5,
                                                            access.file_stream_mib_per_s);
                              }},
                             {"file_from_seconds", seconds(access.file_from_seconds)},
                             {"file_stream_from_seconds", seconds(access.file_stream_from_seconds)},
                             {"file_stream_seconds", seconds(access.file_stream_seconds)}});
  }

  void check_scenario(const Scenario& scenario) {
    std::set<std::string, std::less<>> names;
    std::uint64_t boot_total_mib = 0;
    for (std::size_t i = 0; i < scenario.guests.size(); ++i) {
      const GuestSpec& guest = scenario.guests[i];
      const std::string path = "guests[" + std::to_string(i) + "]";
      if (!guest.name.empty() && !names.insert(guest.name).second) {
        reader_.error(reader_.line_at(path + ".name"), path + ".name",
                      "another guest is already called \"" + guest.name + "\"");
      }
      if (guest.memory_mib > guest.static_max_mib && guest.static_max_mib != 0) {
        reader_.error(
            reader_.line_at(path + ".memory_mib"), path + ".memory_mib",
            "must not be above static_max_mib (" + std::to_string(guest.static_max_mib) + ")");
      }
      if (guest.working_set_peak_mib != 0) {
        const std::string peak_path = path + ".working_set_peak_mib";
        if (guest.workload.kind != WorkloadKind::kDiurnal) {
          reader_.error(reader_.line_at(peak_path), peak_path,
                        "only a diurnal workload has a daily peak");
        } else if (guest.working_set_peak_mib < guest.working_set_mib) {
          reader_.error(
              reader_.line_at(peak_path), peak_path,
              "must not be below working_set_mib (" + std::to_string(guest.working_set_mib) + ")");
        }
      }
      if (guest.boot_mib > guest.memory_mib && guest.memory_mib != 0) {
        reader_.error(reader_.line_at(path + ".boot_mib"), path + ".boot_mib",
                      "must not be above memory_mib (" + std::to_string(guest.memory_mib) + ")");
      }
      boot_total_mib +=
          guest.boot_mib != 0 ? std::min(guest.boot_mib, guest.memory_mib) : guest.memory_mib;
      for (std::size_t s = 0; s < guest.workload.spike_at_seconds.size(); ++s) {
        if (guest.workload.spike_at_seconds[s] >= scenario.duration_seconds) {
          const std::string spike_path = path + ".workload.spike_at_hours";
          reader_.error(reader_.line_at(spike_path), spike_path,
                        "spike " + std::to_string(s) + " starts after the scenario ends");
        }
      }
    }
    if (scenario.host.memory_mib != 0 && boot_total_mib > scenario.host.memory_mib) {
      reader_.error(reader_.line_at("host.memory_mib"), "host.memory_mib",
                    "the guests boot with " + std::to_string(boot_total_mib) +
                        " MiB together, more than the host's " +
                        std::to_string(scenario.host.memory_mib) + " MiB");
    }
  }

  strict_yaml::Reader& reader_;
};

}  // namespace

// Scenarios name quoted and plain strings alike in messages ("got \"64\"").
Result<Scenario> parse_scenario(std::string_view yaml, std::string source_name) {
  strict_yaml::Reader reader(std::move(source_name), strict_yaml::QuotedScalars::kLikePlain);
  const std::optional<strict_yaml::Node> root =
      reader.parse_document(yaml, strict_yaml::DocumentRule::kExactlyOne);
  if (!root) return Error{format_errors(reader.errors())};
  Scenario scenario = ScenarioReader(reader).read(*root);
  if (reader.error_count() != 0) return Error{format_errors(reader.errors())};
  return scenario;
}

Result<Scenario> load_scenario(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  return parse_scenario(*text, path);
}

Scenario without_swap(Scenario scenario) {
  scenario.name += "-noswap";
  for (GuestSpec& guest : scenario.guests) guest.swap_mib = 0;
  return scenario;
}

Scenario with_balloon_rate(Scenario scenario, std::uint64_t mib_per_s) {
  scenario.host.balloon_rate_mib_per_s = mib_per_s;
  return scenario;
}

Scenario with_seed(Scenario scenario, std::uint64_t seed) {
  if (seed == 0) return scenario;
  for (GuestSpec& guest : scenario.guests) {
    guest.seed ^= seed * 0x9e3779b97f4a7c15ULL;
  }
  return scenario;
}

}  // namespace xenballoon::sim
