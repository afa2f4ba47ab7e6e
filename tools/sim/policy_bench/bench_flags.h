// Command-line values the simulator's virtual-time benchmarks share (the policy bench, the
// balancer bench), as daemon::Flags handlers with the same messages. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xenballoon/daemon/flags.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim::bench {

// --seed N: a non-negative integer, given to `take`.
template <typename Take>
daemon::Flags::Handler seed_flag(Take take) {
  return [take](std::string_view text) -> Result<void> {
    const auto seed = parse_u64(text);
    if (!seed) {
      return Error{"--seed: expected a non-negative integer, got \"" + std::string(text) + "\""};
    }
    take(*seed);
    return {};
  };
}

// --hours H: a positive number of model hours.
inline daemon::Flags::Handler hours_flag(std::optional<double>* hours) {
  return [hours](std::string_view text) -> Result<void> {
    const auto value = parse_double(text);
    if (!value || *value <= 0) {
      return Error{"--hours: expected a positive number, got \"" + std::string(text) + "\""};
    }
    *hours = *value;
    return {};
  };
}

}  // namespace xenballoon::sim::bench
