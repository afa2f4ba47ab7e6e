// xenballoon-balancer's configuration: YAML text -> plain struct (parse, with file:line: key
// errors for syntax, unknown keys and wrong types), then range and consistency checks apart
// (validate). Every key, its default and its meaning: docs/balancer.md and
// config/xenballoon-balancer.yaml. Plain values and pure functions; not synchronized.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/config/config_error.h"
#include "xenballoon/dom0/balance.h"
#include "xenballoon/result.h"
#include "xenballoon/util/log.h"

namespace xenballoon::balancer {

// The host: what is kept free on it and what dom0 holds.
struct HostConfig {
  std::uint64_t reserve_mib = 256;  // kept free on the host at all times
  // What dom0 holds, taken from the host total before guests share it. 0: dom0's own
  // memory/target when xenstore has one, else nothing (the host total is all guest memory).
  std::uint64_t dom0_mib = 0;
  bool operator==(const HostConfig&) const = default;
};

// The policy's tunables (balance::Settings in MiB and ratios).
struct PolicyConfig {
  std::uint64_t guest_reserve_mib = 64;         // added to Committed_AS in a guest's need
  double pressure_boost = 0.5;                  // need raised by this share of Committed_AS at full
  double psi_full_share = 0.10;                 // PSI some share of a step counted as full pressure
  double swapin_pages_per_second = 256;         // swap-in rate counted as full pressure
  double majfault_per_second = 1000;            // major-fault rate counted as full pressure
  double refault_pages_per_second = 2048;       // file refault rate counted as full pressure
  std::uint64_t max_rate_mib_per_second = 256;  // a target moves at most this fast
  double max_step_fraction = 0.25;              // and at most this share of it per step
  std::uint64_t min_step_mib = 16;              // smaller moves are skipped
  bool operator==(const PolicyConfig&) const = default;
};

// The settings of a guest no rule names.
struct GuestDefaults {
  std::uint64_t min_mib = 128;  // never below (besides the agent's floor)
  std::uint64_t max_mib = 0;    // never above; 0: static-max only
  double weight = 1.0;          // share of the spare memory, relative to the other guests
  bool operator==(const GuestDefaults&) const = default;
};

// One entry of `guests:`. Unset fields take the defaults.
struct GuestRule {
  std::string match;  // a domain name, or a uuid (matched without regard to case)
  std::optional<std::uint64_t> min_mib, max_mib;
  std::optional<double> weight;
  bool pinned = false;    // never changed
  bool excluded = false;  // not managed; what it holds is reserved
  int line = 0;           // where the entry starts (for messages)
  bool operator==(const GuestRule&) const = default;
};

struct WebConfig {
  std::string listen_address = ":9752";
  bool operator==(const WebConfig&) const = default;
};

// The whole configuration; a default-constructed one holds every default. A plain value.
struct BalancerConfig {
  std::uint64_t interval_seconds = 5;  // between two steps
  bool dry_run = false;                // compute, log and export; never set a target
  HostConfig host;
  PolicyConfig policy;
  std::uint64_t stuck_after_seconds = 60;   // no move toward its target this long: stuck
  std::uint64_t retry_after_seconds = 300;  // a stuck guest is counted on again after this
  GuestDefaults defaults;
  std::vector<GuestRule> guests;
  WebConfig web;
  std::string pidfile = "/run/xenballoon-balancer.pid";  // empty: none
  log::Level log_level = log::Level::kInfo;

  ConfigOrigin origin;  // the file and the line of every key it set

  bool operator==(const BalancerConfig&) const = default;
};

inline constexpr std::uint64_t kMaxIntervalSeconds = 3600;
inline constexpr std::uint64_t kMaxSizeMib = std::uint64_t{1} << 20;  // 1 TiB
inline constexpr std::uint64_t kMaxProgressSeconds = 86400;
inline constexpr double kMaxWeight = 1000;
inline constexpr char kDefaultConfigPath[] = "/etc/xenballoon/xenballoon-balancer.yaml";

// Parses YAML text: type errors, unknown and duplicate keys and YAML syntax errors, one per line
// of the Error's message ("file:line: key: message"). Ranges are validate()'s.
Result<BalancerConfig> parse_balancer_config(std::string_view yaml, std::string source_name);
// Reads and parses a file; its path is the source name in messages.
Result<BalancerConfig> load_balancer_config(const std::string& path);
// Range and consistency checks; empty when the configuration is usable.
std::vector<ConfigError> validate(const BalancerConfig& config);

// The policy's settings.
dom0::balance::Settings policy_settings(const BalancerConfig& config);
// GuestProgress's options.
dom0::balance::GuestProgress::Options progress_options(const BalancerConfig& config);
// The rule for a guest: one naming its uuid wins over one naming its name; nullptr for none.
const GuestRule* find_rule(const BalancerConfig& config, std::string_view name,
                           std::string_view uuid);
// A guest's settings: its rule's fields, the defaults for the rest.
dom0::balance::GuestSettings guest_settings(const BalancerConfig& config, std::string_view name,
                                            std::string_view uuid);

}  // namespace xenballoon::balancer
