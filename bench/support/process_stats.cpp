#include "process_stats.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace xenballoon::bench {
namespace {

std::string proc_path(pid_t pid, const char* name) {
  return "/proc/" + std::to_string(pid) + "/" + name;
}

}  // namespace

double cpu_seconds(pid_t pid) {
  std::ifstream in(proc_path(pid, "stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 > text.size()) return 0;
  // The fields after ")" start at state (field 3); utime is field 14, stime 15.
  std::istringstream fields(text.substr(paren + 2));
  std::vector<std::string> f;
  for (std::string field; fields >> field;) f.push_back(field);
  if (f.size() < 13) return 0;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<ProcessStats> process_stats(pid_t pid) {
  std::ifstream status(proc_path(pid, "status"));
  if (!status) return std::nullopt;
  ProcessStats out;
  bool rss_seen = false;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      out.rss_kib = std::stoull(line.substr(6));
      rss_seen = true;
    } else if (line.rfind("VmHWM:", 0) == 0) {
      out.hwm_kib = std::stoull(line.substr(6));
    }
  }
  if (!rss_seen) return std::nullopt;  // a zombie has no memory lines
  std::error_code error;
  for (std::filesystem::directory_iterator it(proc_path(pid, "fd"), error), end;
       !error && it != end; it.increment(error)) {
    ++out.fds;
  }
  if (error) return std::nullopt;
  out.cpu_seconds = cpu_seconds(pid);
  return out;
}

}  // namespace xenballoon::bench
