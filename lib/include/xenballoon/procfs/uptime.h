// Parser for /proc/uptime. Pure: text in, value out; reading files is ProcfsReader's job.
#pragma once

#include <string_view>

#include "xenballoon/result.h"

namespace xenballoon {

// /proc/uptime in seconds. Plain value type; not synchronized.
struct Uptime {
  double uptime_seconds = 0;
  double idle_seconds = 0;  // summed over all CPUs, so it may exceed uptime_seconds
};

// Parses "7.30 2.52\n": exactly one line of two non-negative finite decimals.
Result<Uptime> parse_uptime(std::string_view text, std::string_view source);

}  // namespace xenballoon
