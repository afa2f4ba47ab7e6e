// xenballoon-balancer's configuration: every key parsed into the struct, errors with file:line:
// key, the checks after parsing, the shipped file at its defaults, and the mapping onto the
// policy's settings and each guest's.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "config.h"
#include "xenballoon/util/file.h"

using namespace xenballoon;
using namespace xenballoon::balancer;

namespace {

BalancerConfig parse_ok(std::string_view yaml) {
  auto parsed = parse_balancer_config(yaml, "b.yaml");
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.ok());
  return *parsed;
}

std::string parse_error(std::string_view yaml) {
  auto parsed = parse_balancer_config(yaml, "b.yaml");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message;
}

std::string problems(std::string_view yaml) {
  return format_errors(validate(parse_ok(yaml)));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("an empty balancer configuration holds every default and is valid") {
  const BalancerConfig config = parse_ok("");
  CHECK(config.interval_seconds == 5);
  CHECK_FALSE(config.dry_run);
  CHECK(config.host.reserve_mib == 256);
  CHECK(config.host.dom0_mib == 0);
  CHECK(config.policy == PolicyConfig{});
  CHECK(config.stuck_after_seconds == 60);
  CHECK(config.retry_after_seconds == 300);
  CHECK(config.defaults == GuestDefaults{});
  CHECK(config.guests.empty());
  CHECK(config.web.listen_address == ":9752");
  CHECK(config.pidfile == "/run/xenballoon-balancer.pid");
  CHECK(config.log_level == log::Level::kInfo);
  CHECK(validate(config).empty());
}

TEST_CASE("the shipped balancer configuration sets every key to its default") {
  const std::string path = std::string(XENBALLOON_SOURCE_DIR) + "/config/xenballoon-balancer.yaml";
  auto loaded = load_balancer_config(path);
  INFO((loaded ? std::string() : loaded.error().message));
  REQUIRE(loaded.ok());
  CHECK(validate(*loaded).empty());
  BalancerConfig defaults;
  defaults.origin = loaded->origin;
  CHECK(*loaded == defaults);
  // Every top-level key and every key of the blocks is written out.
  for (const char* key : {"interval_seconds",
                          "dry_run",
                          "host.reserve_mib",
                          "host.dom0_mib",
                          "policy.guest_reserve_mib",
                          "policy.pressure_boost",
                          "policy.psi_full_share",
                          "policy.swapin_pages_per_second",
                          "policy.majfault_per_second",
                          "policy.refault_pages_per_second",
                          "policy.max_rate_mib_per_second",
                          "policy.max_step_fraction",
                          "policy.min_step_mib",
                          "stuck_after_seconds",
                          "retry_after_seconds",
                          "defaults.min_mib",
                          "defaults.max_mib",
                          "defaults.weight",
                          "guests",
                          "web.listen_address",
                          "pidfile",
                          "log_level"}) {
    INFO(key);
    CHECK(loaded->origin.line_of(key) > 0);
  }
}

TEST_CASE("every balancer key is read, guest rules with what they set") {
  const BalancerConfig c = parse_ok(R"(interval_seconds: 2
dry_run: yes
host: {reserve_mib: 512, dom0_mib: 1024}
policy:
  guest_reserve_mib: 32
  pressure_boost: 1
  psi_full_share: 0.2
  swapin_pages_per_second: 10
  majfault_per_second: 20
  refault_pages_per_second: 30
  max_rate_mib_per_second: 64
  max_step_fraction: 0.5
  min_step_mib: 8
stuck_after_seconds: 10
retry_after_seconds: 20
defaults: {min_mib: 256, max_mib: 4096, weight: 2}
guests:
  - match: web
    min_mib: 512
    weight: 3
  - match: 632EA78C-E949-11F1-9B01-4B366020DF3B
    pinned: true
  - {match: build, excluded: true, max_mib: 1024}
web: {listen_address: "127.0.0.1:19752"}
pidfile: ""
log_level: debug
)");
  CHECK(c.interval_seconds == 2);
  CHECK(c.dry_run);
  CHECK(c.host == HostConfig{512, 1024});
  CHECK(c.policy == PolicyConfig{32, 1, 0.2, 10, 20, 30, 64, 0.5, 8});
  CHECK(c.stuck_after_seconds == 10);
  CHECK(c.retry_after_seconds == 20);
  CHECK(c.defaults == GuestDefaults{256, 4096, 2});
  REQUIRE(c.guests.size() == 3);
  CHECK(c.guests[0].match == "web");
  CHECK(c.guests[0].min_mib == 512);
  CHECK_FALSE(c.guests[0].max_mib);
  CHECK(c.guests[0].weight == 3);
  CHECK(c.guests[1].pinned);
  CHECK(c.guests[2].excluded);
  CHECK(c.web.listen_address == "127.0.0.1:19752");
  CHECK(c.pidfile.empty());
  CHECK(c.log_level == log::Level::kDebug);
  CHECK(validate(c).empty());

  const auto s = policy_settings(c);
  CHECK(s.host_reserve_kib == 512 * 1024);
  CHECK(s.guest_reserve_kib == 32 * 1024);
  CHECK(s.default_min_kib == 256 * 1024);
  CHECK(s.max_rate_kib_per_second == 64 * 1024);
  CHECK(s.min_step_kib == 8 * 1024);
  CHECK(s.max_step_fraction == 0.5);
  CHECK(progress_options(c).stuck_after_seconds == 10);
  CHECK(progress_options(c).retry_after_seconds == 20);

  // A rule's fields, the defaults for the rest; uuids without regard to case.
  const auto web = guest_settings(c, "web", "");
  CHECK(web == dom0::balance::GuestSettings{512 * 1024, 4096 * 1024, 3, false, false});
  const auto pinned = guest_settings(c, "anything", "632ea78c-e949-11f1-9b01-4b366020df3b");
  CHECK(pinned.pinned);
  CHECK(pinned.weight == 2);
  CHECK(guest_settings(c, "build", "").excluded);
  CHECK(guest_settings(c, "build", "").max_kib == 1024 * 1024);
  CHECK(guest_settings(c, "other", "") ==
        dom0::balance::GuestSettings{256 * 1024, 4096 * 1024, 2, false, false});
}

TEST_CASE("a uuid rule wins over a name rule for the same guest") {
  const BalancerConfig c = parse_ok(R"(guests:
  - {match: web, weight: 5}
  - {match: 632ea78c-e949-11f1-9b01-4b366020df3b, weight: 7}
)");
  CHECK(guest_settings(c, "web", "632ea78c-e949-11f1-9b01-4b366020df3b").weight == 7);
  CHECK(guest_settings(c, "web", "00000000-0000-4000-8000-000000000001").weight == 5);
  CHECK(find_rule(c, "db", "") == nullptr);
}

TEST_CASE("balancer parse errors name the file, the line and the key, every one of them") {
  const std::string errors = parse_error(R"(interval_seconds: soon
host:
  reserve_mib: -1
  spare: 1
policy: 3
guests:
  - min_mib: 1
  - match: x
    pinned: maybe
  - 7
web: {listen_address: [1]}
frobnicate: true
)");
  CHECK(contains(errors, "b.yaml:1: interval_seconds: "));
  CHECK(contains(errors, "b.yaml:3: host.reserve_mib: "));
  CHECK(contains(errors, "b.yaml:4: host.spare: "));
  CHECK(contains(errors, "b.yaml:5: policy: "));
  CHECK(contains(errors, "b.yaml:7: guests[0].match: "));
  CHECK(contains(errors, "b.yaml:9: guests[1].pinned: "));
  CHECK(contains(errors, "b.yaml:10: guests[2]: "));
  CHECK(contains(errors, "b.yaml:11: web.listen_address: "));
  CHECK(contains(errors, "b.yaml:12: frobnicate: "));
  CHECK(contains(parse_error("guests: {match: web}\n"), "b.yaml:1: guests: "));
  CHECK(contains(parse_error("interval_seconds: \"5\"\n"), "b.yaml:1: interval_seconds: "));
  CHECK(contains(parse_error("a: [\n"), "b.yaml:"));
}

TEST_CASE("balancer range and consistency checks name the line of the key") {
  CHECK(contains(problems("interval_seconds: 0\n"),
                 "b.yaml:1: interval_seconds: must be between 1 and 3600"));
  CHECK(contains(problems("\n\ninterval_seconds: 3601\n"), "b.yaml:3: interval_seconds: "));
  CHECK(contains(problems("policy:\n  max_step_fraction: 0\n"),
                 "b.yaml:2: policy.max_step_fraction: "));
  CHECK(
      contains(problems("policy:\n  psi_full_share: 1.5\n"), "b.yaml:2: policy.psi_full_share: "));
  CHECK(contains(problems("policy:\n  pressure_boost: -1\n"), "b.yaml:2: policy.pressure_boost: "));
  CHECK(contains(problems("policy:\n  swapin_pages_per_second: 0\n"),
                 "policy.swapin_pages_per_second: "));
  CHECK(contains(problems("policy:\n  max_rate_mib_per_second: 0\n"),
                 "policy.max_rate_mib_per_second: "));
  CHECK(contains(problems("stuck_after_seconds: 0\n"), "b.yaml:1: stuck_after_seconds: "));
  CHECK(contains(problems("defaults:\n  min_mib: 512\n  max_mib: 256\n"),
                 "b.yaml:3: defaults.max_mib: "));
  CHECK(contains(problems("defaults:\n  weight: -2\n"), "b.yaml:2: defaults.weight: "));
  CHECK(contains(problems("web:\n  listen_address: nowhere\n"), "b.yaml:2: web.listen_address: "));
  CHECK(contains(problems("web:\n  listen_address: \":70000\"\n"), "web.listen_address: "));
  CHECK(contains(problems("pidfile: run/x.pid\n"), "b.yaml:1: pidfile: "));
  CHECK(problems("pidfile: \"\"\n").empty());

  const std::string rules = problems(R"(guests:
  - match: ""
  - match: web
    min_mib: 2048
    max_mib: 1024
  - match: web
  - match: 632EA78C-E949-11F1-9B01-4B366020DF3B
  - match: 632ea78c-e949-11f1-9b01-4b366020df3b
    weight: 1001
  - match: db
    pinned: true
    excluded: true
  - match: small
    max_mib: 64
)");
  CHECK(contains(rules, "b.yaml:2: guests[0].match: "));
  CHECK(contains(rules, "b.yaml:5: guests[1].max_mib: min_mib (2048) is above max_mib (1024)"));
  CHECK(contains(rules, "b.yaml:6: guests[2].match: \"web\" is matched by guests[1] already"));
  CHECK(contains(rules, "b.yaml:8: guests[4].match: "));
  CHECK(contains(rules, "b.yaml:9: guests[4].weight: "));
  CHECK(contains(rules, "b.yaml:12: guests[5].excluded: "));
  // min_mib from the defaults (128) above the rule's max_mib.
  CHECK(contains(rules, "b.yaml:14: guests[6].max_mib: min_mib (128) is above max_mib (64)"));
}
