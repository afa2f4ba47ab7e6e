#include "xenballoon/util/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace xenballoon::log {
namespace {

std::mutex g_mutex;
std::string g_program = "xenballoon";
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
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

bool enabled(Level level) {
  return static_cast<int>(level) >= g_min_level.load();
}

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  std::lock_guard lock(g_mutex);
  if (g_journal) {
    std::fprintf(stderr, "<%d>%s: %.*s\n", syslog_priority(level), level_name(level),
                 static_cast<int>(message.size()), message.data());
  } else {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::fprintf(stderr, "%s.%03ldZ %s[%s]: %.*s\n", stamp, now.tv_nsec / 1000000,
                 g_program.c_str(), level_name(level), static_cast<int>(message.size()),
                 message.data());
  }
  std::fflush(stderr);
}

}  // namespace xenballoon::log
