// Simulation scenarios: a host and its guests with their workloads, read from YAML
// (tools/sim/scenarios/*.yaml; every key: docs/simulation.md, "Scenarios").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/result.h"
#include "xenballoon/sim/guest.h"

namespace xenballoon::sim {

struct HostSpec {
  std::uint64_t memory_mib = 0;  // memory Xen can give to guests (after itself and dom0)
  std::uint64_t balloon_rate_mib_per_s = 256;

  bool operator==(const HostSpec&) const = default;
};

// A whole scenario. A plain value.
struct Scenario {
  std::string name;
  std::string description;
  std::uint64_t duration_seconds = 24 * 3600;
  HostSpec host;
  std::vector<GuestSpec> guests;

  bool operator==(const Scenario&) const = default;
};

// Parses and checks a scenario. Every problem is reported, one per line of the Error's message,
// as "<source>:<line>: <key path>: <message>": YAML syntax, unknown, duplicate and missing keys,
// wrong types, keys that do not belong to the workload type, and out-of-range or inconsistent
// values (memory above static-max, guests that do not fit the host, ...).
Result<Scenario> parse_scenario(std::string_view yaml, std::string source_name);

// Reads and parses a file; its path is the source name in messages.
Result<Scenario> load_scenario(const std::string& path);

// The scenario with every guest's seed mixed with `seed` (0 leaves them as written), so one
// number replays or varies a whole scenario.
Scenario with_seed(Scenario scenario, std::uint64_t seed);

// The scenario with every guest's swap taken away; its name gains "-noswap".
Scenario without_swap(Scenario scenario);

// The scenario with the balloon drivers moving at most `mib_per_s` each way.
Scenario with_balloon_rate(Scenario scenario, std::uint64_t mib_per_s);

}  // namespace xenballoon::sim
