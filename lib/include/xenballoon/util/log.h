// Leveled logging to stderr, as plain text (the default) or logfmt. Under systemd (JOURNAL_STREAM
// set) lines carry <N> priority prefixes so the journal records the level. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xenballoon::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// kText: "2024-05-01T12:00:00.123Z prog[info]: message" (under systemd "<6>info: message").
// kLogfmt: as Prometheus' go-kit logger writes it,
//   ts=2024-05-01T12:00:00.123Z level=info prog=xenballoon-exporter msg="serving metrics"
// (levels debug, info, warn, error; under systemd the same line after the <N> prefix).
enum class Format { kText, kLogfmt };

void init(std::string_view program, Level min_level);
// "debug", "info", "warning" or "error"; anything else is nullopt.
std::optional<Level> parse_level(std::string_view text);
void set_level(Level min_level);
// "text" or "logfmt"; anything else is nullopt.
std::optional<Format> parse_format(std::string_view text);
// Kept across init(); kText until set.
void set_format(Format format);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) {
  write(Level::kDebug, m);
}
inline void info(std::string_view m) {
  write(Level::kInfo, m);
}
inline void warning(std::string_view m) {
  write(Level::kWarning, m);
}
inline void error(std::string_view m) {
  write(Level::kError, m);
}

}  // namespace xenballoon::log
