#include "xenballoon/util/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace xenballoon::log {
namespace {

std::mutex g_mutex;
std::string g_program = "xenballoon";
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kText)};
bool g_journal = false;

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::kDebug:
      return 7;
    case Level::kInfo:
      return 6;
    case Level::kWarning:
      return 4;
    case Level::kError:
      return 3;
  }
  return 6;
}

// go-kit's level names: "warn", not "warning".
const char* logfmt_level_name(Level level) {
  return level == Level::kWarning ? "warn" : level_name(level);
}

// A logfmt value: bare when it is a plain word, else in double quotes with \\, \", \n, \r and
// \t escaped and other control bytes as \u00XX.
std::string logfmt_value(std::string_view text) {
  bool bare = !text.empty();
  for (unsigned char c : text) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) bare = false;
  }
  if (bare) return std::string(text);
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < ' ' || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// "2024-05-01T12:00:00.123Z": UTC with milliseconds.
std::string timestamp() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  char with_millis[48];
  std::snprintf(with_millis, sizeof with_millis, "%s.%03ldZ", stamp, now.tv_nsec / 1000000);
  return with_millis;
}

}  // namespace

void init(std::string_view program, Level min_level) {
  std::lock_guard lock(g_mutex);
  g_program = std::string(program);
  g_min_level = static_cast<int>(min_level);
  g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
}

std::optional<Level> parse_level(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warning") return Level::kWarning;
  if (text == "error") return Level::kError;
  return std::nullopt;
}

void set_level(Level min_level) {
  g_min_level = static_cast<int>(min_level);
}

std::optional<Format> parse_format(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "logfmt") return Format::kLogfmt;
  return std::nullopt;
}

void set_format(Format format) {
  g_format = static_cast<int>(format);
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_min_level.load();
}

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  std::lock_guard lock(g_mutex);
  if (static_cast<Format>(g_format.load()) == Format::kLogfmt) {
    const std::string line = "ts=" + timestamp() + " level=" + logfmt_level_name(level) +
                             " prog=" + logfmt_value(g_program) + " msg=" + logfmt_value(message);
    if (g_journal) {
      std::fprintf(stderr, "<%d>%s\n", syslog_priority(level), line.c_str());
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  } else if (g_journal) {
    std::fprintf(stderr, "<%d>%s: %.*s\n", syslog_priority(level), level_name(level),
                 static_cast<int>(message.size()), message.data());
  } else {
    const std::string stamp = timestamp();
    std::fprintf(stderr, "%s %s[%s]: %.*s\n", stamp.c_str(), g_program.c_str(), level_name(level),
                 static_cast<int>(message.size()), message.data());
  }
  std::fflush(stderr);
}

}  // namespace xenballoon::log
