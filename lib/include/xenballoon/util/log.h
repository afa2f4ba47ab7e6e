// Leveled logging to stderr. Under systemd (JOURNAL_STREAM set) lines carry <N> priority
// prefixes so the journal records the level. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xenballoon::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void init(std::string_view program, Level min_level);
// "debug", "info", "warning" or "error"; anything else is nullopt.
std::optional<Level> parse_level(std::string_view text);
void set_level(Level min_level);
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
