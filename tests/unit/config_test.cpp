#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/util/file.h"

using namespace xenballoon;

namespace {

const std::string kFixtures = std::string(XENBALLOON_FIXTURES) + "/config/";

AgentConfig parse_ok(std::string_view yaml) {
  auto parsed = parse_agent_config(yaml, "test.yaml");
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.ok());
  return *parsed;
}

std::string parse_error(std::string_view yaml) {
  auto parsed = parse_agent_config(yaml, "test.yaml");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message;
}

std::vector<std::string> error_lines(const std::vector<ConfigError>& errors) {
  std::vector<std::string> lines;
  for (const ConfigError& error : errors) lines.push_back(error.to_string());
  return lines;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

std::string fixture_text(const std::string& name) {
  auto text = read_file(kFixtures + name);
  REQUIRE(text.ok());
  return *text;
}

// Settings only: where they came from does not matter for equality with the defaults.
AgentConfig without_origin(AgentConfig config) {
  config.origin = {};
  return config;
}

}  // namespace

TEST_CASE("an empty configuration holds every default") {
  const AgentConfig config = parse_ok("");
  CHECK(config.policy == PolicyKind::kPressureV2);
  CHECK(config.selfballoon);
  CHECK(config.interval_seconds == 1);
  CHECK(config.publish_interval_seconds == 5);
  CHECK(config.minmem_mib == 0);
  CHECK(config.uphysteresis == 1);
  CHECK(config.downhysteresis == 10);
  CHECK(config.pressure.reserve_mib == 128);
  CHECK(config.pressure.psi_some_avg10_threshold == 1.0);
  CHECK(config.pressure.swapin_burst_pages == 256);
  CHECK(config.pressure.majfault_burst_count == 1000);
  CHECK(config.pressure.burst_window_seconds == 10);
  CHECK(config.pressure.growth_headroom_mib == 128);
  CHECK(config.pressure.shrink_cooldown_seconds == 60);
  CHECK(config.on_exit == OnExit::kDom0Target);
  CHECK(config.vmstat_fields == std::vector<std::string>{"pswpin", "pswpout", "pgpgin", "pgpgout",
                                                         "pgfault", "pgmajfault", "oom_kill",
                                                         "workingset_refault_file"});
  CHECK_FALSE(config.legacy_paths);
  CHECK(config.web.listen_address == ":9750");
  CHECK(config.paths.procfs == "/proc");
  CHECK(config.paths.sysfs == "/sys");
  CHECK(config.pidfile == "/run/xenballoond.pid");
  CHECK(config.log_level == log::Level::kInfo);
  CHECK(config.origin.source_name == "test.yaml");
  CHECK(config.origin.lines.empty());
  CHECK(validate(config).empty());
}

TEST_CASE("a file of comments only, or an empty mapping, holds every default") {
  auto loaded = load_agent_config(kFixtures + "empty.yaml");
  REQUIRE(loaded.ok());
  CHECK(without_origin(*loaded) == AgentConfig{});
  CHECK(loaded->origin.source_name == kFixtures + "empty.yaml");
  CHECK(without_origin(parse_ok("{}\n")) == AgentConfig{});
  CHECK(without_origin(parse_ok("---\n# nothing\n")) == AgentConfig{});
}

TEST_CASE("every key is read, with the line it was on") {
  auto loaded = load_agent_config(kFixtures + "all-keys.yaml");
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  const AgentConfig& config = *loaded;
  CHECK(config.policy == PolicyKind::kClassic);
  CHECK_FALSE(config.selfballoon);
  CHECK(config.interval_seconds == 2);
  CHECK(config.publish_interval_seconds == 30);
  CHECK(config.minmem_mib == 256);
  CHECK(config.uphysteresis == 0);
  CHECK(config.downhysteresis == 8);
  CHECK(config.pressure.reserve_mib == 64);
  CHECK(config.pressure.psi_some_avg10_threshold == 2.5);
  CHECK(config.pressure.swapin_burst_pages == 100);
  CHECK(config.pressure.majfault_burst_count == 500);
  CHECK(config.pressure.burst_window_seconds == 20);
  CHECK(config.pressure.growth_headroom_mib == 256);
  CHECK(config.pressure.shrink_cooldown_seconds == 120);
  CHECK(config.on_exit == OnExit::kStaticMax);
  CHECK(config.vmstat_fields == std::vector<std::string>{"pswpin", "workingset_refault_file"});
  CHECK(config.legacy_paths);
  CHECK(config.web.listen_address == "127.0.0.1:9100");
  CHECK(config.paths.procfs == "/tmp/proc");
  CHECK(config.paths.sysfs == "/tmp/sys");
  CHECK(config.pidfile.empty());
  CHECK(config.log_level == log::Level::kDebug);

  CHECK(config.origin.line_of("policy") == 2);
  CHECK(config.origin.line_of("pressure") == 9);
  CHECK(config.origin.line_of("pressure.reserve_mib") == 10);
  CHECK(config.origin.line_of("vmstat_fields[1]") == 20);
  CHECK(config.origin.line_of("web.listen_address") == 23);
  CHECK(config.origin.line_of("log_level") == 28);
  CHECK(config.origin.line_of("no.such.key") == 0);
  CHECK(validate(config).empty());
}

TEST_CASE("each enumeration accepts each of its names") {
  CHECK(parse_ok("policy: pressure").policy == PolicyKind::kPressure);
  CHECK(parse_ok("policy: classic").policy == PolicyKind::kClassic);
  CHECK(parse_ok("on_exit: dom0-target").on_exit == OnExit::kDom0Target);
  CHECK(parse_ok("on_exit: static-max").on_exit == OnExit::kStaticMax);
  CHECK(parse_ok("on_exit: leave").on_exit == OnExit::kLeave);
  CHECK(parse_ok("log_level: debug").log_level == log::Level::kDebug);
  CHECK(parse_ok("log_level: info").log_level == log::Level::kInfo);
  CHECK(parse_ok("log_level: warning").log_level == log::Level::kWarning);
  CHECK(parse_ok("log_level: error").log_level == log::Level::kError);
  CHECK(to_string(PolicyKind::kClassic) == "classic");
  CHECK(to_string(OnExit::kDom0Target) == "dom0-target");
  CHECK(to_string(log::Level::kWarning) == "warning");
}

TEST_CASE("booleans accept true/false, yes/no and on/off in any case") {
  CHECK(parse_ok("selfballoon: false").selfballoon == false);
  CHECK(parse_ok("selfballoon: No").selfballoon == false);
  CHECK(parse_ok("selfballoon: OFF").selfballoon == false);
  CHECK(parse_ok("legacy_paths: True").legacy_paths == true);
  CHECK(parse_ok("legacy_paths: yes").legacy_paths == true);
  CHECK(parse_ok("legacy_paths: on").legacy_paths == true);
}

TEST_CASE("numbers, strings and lists in their other spellings") {
  CHECK(parse_ok("pressure: {psi_some_avg10_threshold: 7}").pressure.psi_some_avg10_threshold ==
        7.0);
  CHECK(
      parse_ok("pressure:\n  psi_some_avg10_threshold: 0.25\n").pressure.psi_some_avg10_threshold ==
      0.25);
  CHECK(parse_ok("minmem_mib: 18446744073709551615").minmem_mib == 18446744073709551615ull);
  CHECK(parse_ok("vmstat_fields: []").vmstat_fields.empty());
  CHECK(parse_ok("pidfile: '/var/run/x.pid'").pidfile == "/var/run/x.pid");
  CHECK(parse_ok("web: {listen_address: '[::1]:9750'}").web.listen_address == "[::1]:9750");
}

TEST_CASE("type errors name the file, the line, the key path and what was found") {
  auto parsed = parse_agent_config(fixture_text("type-errors.yaml"), "type-errors.yaml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(
      split_lines(parsed.error().message) ==
      std::vector<std::string>{
          R"(type-errors.yaml:1: policy: expected one of pressure, pressure-v2, classic, got "fast")",
          R"(type-errors.yaml:2: selfballoon: expected true or false, got "maybe")",
          R"(type-errors.yaml:3: interval_seconds: expected a non-negative integer, got "-1")",
          R"(type-errors.yaml:5: pressure.psi_some_avg10_threshold: expected a number, got "high")",
          R"(type-errors.yaml:6: pressure.reserve_mib: expected a non-negative integer, got the quoted or tagged string "64")",
          R"(type-errors.yaml:7: pressure.colour: unknown key)",
          R"(type-errors.yaml:8: web: expected a mapping of keys, got the quoted or tagged string ":9750")",
          R"(type-errors.yaml:9: vmstat_fields: expected a list of strings (write [] for none), got "pswpin")",
      });
}

TEST_CASE("a value of the wrong shape is an error at the key's line") {
  CHECK(parse_error("interval_seconds: 1\nminmem_mib:\n") ==
        "test.yaml:2: minmem_mib: expected a non-negative integer, got nothing");
  CHECK(parse_error("uphysteresis: [1, 2]\n") ==
        "test.yaml:1: uphysteresis: expected a non-negative integer, got a list");
  CHECK(parse_error("pressure: 5\n") ==
        R"(test.yaml:1: pressure: expected a mapping of keys, got "5")");
  CHECK(parse_error("paths:\n  procfs:\n    a: b\n") ==
        "test.yaml:2: paths.procfs: expected a string, got a mapping");
  CHECK(parse_error("log_level: ~\n") ==
        "test.yaml:1: log_level: expected one of debug, info, warning, error, got nothing");
  CHECK(parse_error("vmstat_fields:\n  - pswpin\n  - [a]\n") ==
        "test.yaml:3: vmstat_fields[1]: expected a string, got a list");
}

TEST_CASE("numbers are checked whole: sign, fraction, overflow, hex, tags") {
  CHECK(parse_error("downhysteresis: 1.5") ==
        R"(test.yaml:1: downhysteresis: expected a non-negative integer, got "1.5")");
  CHECK(
      parse_error("downhysteresis: 18446744073709551616") ==
      R"(test.yaml:1: downhysteresis: expected a non-negative integer, got "18446744073709551616")");
  CHECK(parse_error("downhysteresis: 0x10") ==
        R"(test.yaml:1: downhysteresis: expected a non-negative integer, got "0x10")");
  CHECK(
      parse_error("downhysteresis: !!int 10") ==
      R"(test.yaml:1: downhysteresis: expected a non-negative integer, got the quoted or tagged string "10")");
  CHECK(parse_error("pressure:\n  psi_some_avg10_threshold: nan\n") ==
        R"(test.yaml:2: pressure.psi_some_avg10_threshold: expected a number, got "nan")");
  CHECK(parse_error("selfballoon: 1") ==
        R"(test.yaml:1: selfballoon: expected true or false, got "1")");
}

TEST_CASE("unknown keys are errors at every level, naming the key and its line") {
  CHECK(parse_error("interval_seconds: 1\nintervall_seconds: 2\n") ==
        "test.yaml:2: intervall_seconds: unknown key");
  CHECK(parse_error("web:\n  listen_address: ':1'\n  tls: true\n") ==
        "test.yaml:3: web.tls: unknown key");
  CHECK(parse_error("paths:\n  proc: /proc\n") == "test.yaml:2: paths.proc: unknown key");
  CHECK(parse_error("[1, 2]: x\n") == "test.yaml:1: keys must be plain words, got a list");
}

TEST_CASE("a key given twice is an error at the second one") {
  CHECK(parse_error("policy: classic\nselfballoon: true\npolicy: pressure\n") ==
        "test.yaml:3: policy: duplicate key");
  CHECK(parse_error("pressure:\n  reserve_mib: 1\n  reserve_mib: 2\n") ==
        "test.yaml:3: pressure.reserve_mib: duplicate key");
}

TEST_CASE("YAML syntax errors, several documents and a non-mapping top level") {
  CHECK(parse_error("policy: classic\nvmstat_fields: [pswpin\nlog_level: info\n") ==
        "test.yaml:3: YAML syntax error: end of sequence flow not found");
  CHECK(parse_error("policy: classic\n---\npolicy: pressure\n") ==
        "test.yaml:3: expected one YAML document, found 2");
  CHECK(parse_error("- policy\n- classic\n") ==
        "test.yaml:1: expected a mapping of keys at the top level, got a list");
  CHECK(parse_error("just words") ==
        R"(test.yaml:1: expected a mapping of keys at the top level, got "just words")");
}

TEST_CASE("several errors in one file are all reported") {
  const std::string message = parse_error("policy: x\nfoo: 1\npressure:\n  bar: 2\n");
  CHECK(split_lines(message) ==
        std::vector<std::string>{
            R"(test.yaml:1: policy: expected one of pressure, pressure-v2, classic, got "x")",
            "test.yaml:2: foo: unknown key", "test.yaml:4: pressure.bar: unknown key"});
}

TEST_CASE("validation names the key and the line of every out-of-range value") {
  auto parsed = parse_agent_config(fixture_text("out-of-range.yaml"), "out-of-range.yaml");
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.ok());
  CHECK(
      error_lines(validate(*parsed)) ==
      std::vector<std::string>{
          "out-of-range.yaml:1: interval_seconds: must be between 1 and 3600, got 0",
          "out-of-range.yaml:2: publish_interval_seconds: must be between 1 and 3600, got 86400",
          "out-of-range.yaml:3: minmem_mib: must be between 16 and 1048576, got 4",
          "out-of-range.yaml:4: uphysteresis: must be between 0 and 1000, got 1001",
          "out-of-range.yaml:6: pressure.psi_some_avg10_threshold: must be above 0 and at most 100 "
          "(percent), got 150",
          "out-of-range.yaml:7: pressure.swapin_burst_pages: must be between 1 and 4294967296, "
          "got 0",
          "out-of-range.yaml:8: pressure.burst_window_seconds: must be between 1 and 60, got 61",
          R"(out-of-range.yaml:9: vmstat_fields[1]: "pswpin" is listed twice)",
          R"(out-of-range.yaml:9: vmstat_fields[2]: must be a /proc/vmstat counter name (letters, digits, _), got "bad name")",
          R"(out-of-range.yaml:11: web.listen_address: must be [host]:port with a port from 1 to 65535, got "localhost")",
          R"(out-of-range.yaml:13: paths.procfs: must be an absolute path, got "proc")",
          R"(out-of-range.yaml:14: pidfile: must be an absolute path, got "run/xenballoond.pid")",
      });
}

TEST_CASE("validation limits at their edges") {
  auto errors_for = [](const std::string& yaml) { return error_lines(validate(parse_ok(yaml))); };
  CHECK(errors_for("interval_seconds: 3600\npublish_interval_seconds: 1\n").empty());
  CHECK(errors_for("interval_seconds: 3601\n") ==
        std::vector<std::string>{
            "test.yaml:1: interval_seconds: must be between 1 and 3600, got 3601"});
  CHECK(errors_for("minmem_mib: 16\n").empty());
  CHECK(errors_for("minmem_mib: 1048576\n").empty());
  CHECK(errors_for("minmem_mib: 1048577\n") ==
        std::vector<std::string>{
            "test.yaml:1: minmem_mib: must be between 16 and 1048576, got 1048577"});
  CHECK(errors_for("uphysteresis: 0\ndownhysteresis: 1000\n").empty());
  CHECK(errors_for("downhysteresis: 1001\n") ==
        std::vector<std::string>{
            "test.yaml:1: downhysteresis: must be between 0 and 1000, got 1001"});
  CHECK(errors_for("pressure: {psi_some_avg10_threshold: 100}\n").empty());
  CHECK(errors_for("pressure: {psi_some_avg10_threshold: 0}\n") ==
        std::vector<std::string>{"test.yaml:1: pressure.psi_some_avg10_threshold: must be above 0 "
                                 "and at most 100 (percent), got 0"});
  CHECK(errors_for("pressure: {majfault_burst_count: 0, shrink_cooldown_seconds: 3601}\n") ==
        std::vector<std::string>{
            "test.yaml:1: pressure.majfault_burst_count: must be between 1 and 4294967296, got 0",
            "test.yaml:1: pressure.shrink_cooldown_seconds: must be between 0 and 3600, got 3601"});
  CHECK(
      errors_for("pressure: {reserve_mib: 1048577, growth_headroom_mib: 1048577}\n") ==
      std::vector<std::string>{
          "test.yaml:1: pressure.reserve_mib: must be between 0 and 1048576, got 1048577",
          "test.yaml:1: pressure.growth_headroom_mib: must be between 0 and 1048576, got 1048577"});
  CHECK(errors_for("web: {listen_address: ':65535'}\n").empty());
  CHECK(errors_for("web: {listen_address: 'host.example:80'}\n").empty());
  CHECK(errors_for("web: {listen_address: '[::]:9750'}\n").empty());
  CHECK(errors_for("web: {listen_address: ':65536'}\n").size() == 1);
  CHECK(errors_for("web: {listen_address: '::1:9750'}\n").size() == 1);
  CHECK(errors_for("pidfile: ''\n").empty());
  CHECK(errors_for("paths: {sysfs: ''}\n") ==
        std::vector<std::string>{"test.yaml:1: paths.sysfs: must be an absolute path, got \"\""});
}

TEST_CASE("pressure-v2's keys are read and checked with the line of each") {
  const AgentConfig config = parse_ok(
      "policy: pressure-v2\n"
      "pressure:\n"
      "  stall_target_percent: 0.1\n"
      "  stall_backoff_percent: 0.5\n"
      "  stall_window_seconds: 20\n"
      "  probe_percent: 2\n"
      "  backoff_cooldown_seconds: 120\n"
      "  refault_backoff_pages: 64\n"
      "  file_working_set_half_life_seconds: 600\n"
      "  headroom_min_mib: 32\n"
      "  headroom_max_mib: 512\n"
      "  spike_window_seconds: 3\n"
      "  spike_half_life_seconds: 3600\n"
      "  balloon_rate_mib_per_s: 64\n"
      "  swap_absorb_percent: 25\n");
  CHECK(config.policy == PolicyKind::kPressureV2);
  CHECK(config.pressure.stall_target_percent == 0.1);
  CHECK(config.pressure.stall_backoff_percent == 0.5);
  CHECK(config.pressure.stall_window_seconds == 20);
  CHECK(config.pressure.probe_percent == 2);
  CHECK(config.pressure.backoff_cooldown_seconds == 120);
  CHECK(config.pressure.refault_backoff_pages == 64);
  CHECK(config.pressure.file_working_set_half_life_seconds == 600);
  CHECK(config.pressure.headroom_min_mib == 32);
  CHECK(config.pressure.headroom_max_mib == 512);
  CHECK(config.pressure.spike_window_seconds == 3);
  CHECK(config.pressure.spike_half_life_seconds == 3600);
  CHECK(config.pressure.balloon_rate_mib_per_s == 64);
  CHECK(config.pressure.swap_absorb_percent == 25);
  CHECK(validate(config).empty());
  CHECK(config.origin.line_of("pressure.balloon_rate_mib_per_s") == 14);

  CHECK(error_lines(validate(parse_ok("pressure:\n"
                                      "  stall_target_percent: 0\n"
                                      "  stall_window_seconds: 61\n"
                                      "  probe_percent: 101\n"
                                      "  refault_backoff_pages: 0\n"
                                      "  headroom_min_mib: 256\n"
                                      "  headroom_max_mib: 128\n"
                                      "  balloon_rate_mib_per_s: 0\n"
                                      "  swap_absorb_percent: 101\n"))) ==
        std::vector<std::string>{
            "test.yaml:2: pressure.stall_target_percent: must be above 0 and at most 100 "
            "(percent), got 0",
            "test.yaml:3: pressure.stall_window_seconds: must be between 1 and 60, got 61",
            "test.yaml:4: pressure.probe_percent: must be above 0 and at most 100 (percent), got "
            "101",
            "test.yaml:5: pressure.refault_backoff_pages: must be between 1 and 4294967296, got 0",
            "test.yaml:7: pressure.headroom_max_mib: must not be below headroom_min_mib",
            "test.yaml:8: pressure.balloon_rate_mib_per_s: must be between 1 and 65536, got 0",
            "test.yaml:9: pressure.swap_absorb_percent: must be between 0 and 100, got 101"});
  CHECK(error_lines(validate(parse_ok("pressure: {stall_target_percent: 1, "
                                      "stall_backoff_percent: 0.5}\n"))) ==
        std::vector<std::string>{
            "test.yaml:1: pressure.stall_backoff_percent: must not be below stall_target_percent"});
}

TEST_CASE("validation of a configuration built in code has no line numbers") {
  AgentConfig config;
  config.interval_seconds = 0;
  config.policy = PolicyKind::kKernel;
  CHECK(error_lines(validate(config)) ==
        std::vector<std::string>{
            "<config>: policy: the agent runs `pressure`, `pressure-v2` or `classic`; `kernel` "
            "exists only for the simulation benchmark",
            "<config>: interval_seconds: must be between 1 and 3600, got 0"});
  config = AgentConfig{};
  config.policy = PolicyKind::kNone;
  CHECK(validate(config).size() == 1);
  CHECK(validate(AgentConfig{}).empty());
}

TEST_CASE("the shipped example parses, validates and shows exactly the defaults") {
  const std::string path = std::string(XENBALLOON_SOURCE_DIR) + "/config/xenballoond.yaml";
  auto loaded = load_valid_agent_config(path);
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  CHECK(without_origin(*loaded) == AgentConfig{});
  // Every key is written out, not left to the default.
  for (const char* key : {"policy",
                          "selfballoon",
                          "interval_seconds",
                          "publish_interval_seconds",
                          "minmem_mib",
                          "uphysteresis",
                          "downhysteresis",
                          "pressure.reserve_mib",
                          "pressure.psi_some_avg10_threshold",
                          "pressure.swapin_burst_pages",
                          "pressure.majfault_burst_count",
                          "pressure.burst_window_seconds",
                          "pressure.growth_headroom_mib",
                          "pressure.shrink_cooldown_seconds",
                          "on_exit",
                          "vmstat_fields",
                          "legacy_paths",
                          "web.listen_address",
                          "paths.procfs",
                          "paths.sysfs",
                          "pidfile",
                          "log_level"}) {
    INFO(key);
    CHECK(loaded->origin.line_of(key) > 0);
  }
}

TEST_CASE("loading reports unreadable files and invalid values") {
  auto missing = load_agent_config(kFixtures + "no-such-file.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("no-such-file.yaml") != std::string::npos);

  auto invalid = load_valid_agent_config(kFixtures + "out-of-range.yaml");
  REQUIRE_FALSE(invalid.ok());
  CHECK(split_lines(invalid.error().message).size() == 12);
  CHECK(invalid.error().message.rfind(kFixtures + "out-of-range.yaml:1: interval_seconds:", 0) ==
        0);

  auto type_errors = load_valid_agent_config(kFixtures + "type-errors.yaml");
  REQUIRE_FALSE(type_errors.ok());
  CHECK(split_lines(type_errors.error().message).size() == 8);
}
