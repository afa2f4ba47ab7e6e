// Strict number parsing for untrusted text (/proc, sysfs, xenstore values). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xenballoon {

// Whole-string unsigned decimal; no sign, no spaces, no overflow. Empty or partial input ->
// nullopt.
std::optional<std::uint64_t> parse_u64(std::string_view text);

// Whole-string signed decimal.
std::optional<std::int64_t> parse_i64(std::string_view text);

// Whole-string finite decimal floating point ("1.25", "0", "12"); rejects nan/inf and hex.
std::optional<double> parse_double(std::string_view text);

// Untrusted text for an error message: quoted, printable ASCII as is, other bytes as \xNN, cut
// after `max_chars` characters, so binary garbage cannot garble a log line.
std::string quote_untrusted(std::string_view text, std::size_t max_chars = 48);

// Strips ASCII spaces, tabs and newlines at both ends.
std::string_view trim(std::string_view text);

}  // namespace xenballoon
