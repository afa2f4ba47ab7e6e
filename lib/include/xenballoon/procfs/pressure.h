// Parser for pressure stall information (/proc/pressure/memory). Pure: text in, value out.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "xenballoon/result.h"

namespace xenballoon {

// One PSI line ("some ..." or "full ..."). Plain value type; not synchronized.
struct PressureLine {
  double avg10 = 0;  // percent of wall time stalled, averaged over 10 s
  double avg60 = 0;
  double avg300 = 0;
  std::uint64_t total_us = 0;  // cumulative stall time in microseconds
};

// A PSI file. Plain value type; not synchronized.
struct PressureStats {
  PressureLine some;
  std::optional<PressureLine> full;  // absent on older kernels and some configurations
};

// Parses `some avg10=.. avg60=.. avg300=.. total=..` plus an optional `full ...` line. Unknown
// `key=value` tokens are ignored; a missing or malformed avg10/avg60/avg300/total, a negative
// average, an unknown line kind, a repeated line or key, an empty text and a last line without a
// newline are errors.
Result<PressureStats> parse_pressure(std::string_view text, std::string_view source);

}  // namespace xenballoon
