#include "sim_host.h"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "http_get.h"

namespace xenballoon::testing {

std::uint16_t free_port_run(int count) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const std::uint16_t base = free_port();
    if (base > 65535 - count) continue;
    bool all_free = true;
    for (int i = 1; i < count && all_free; ++i) {
      all_free = port_is_free(static_cast<std::uint16_t>(base + i));
    }
    if (all_free) return base;
  }
  throw std::runtime_error("no run of free ports");
}

std::optional<SimState> read_sim_state(const std::string& path, std::size_t guests) {
  std::istringstream in(slurp(path));
  SimState state;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "process") {
      std::string name;
      pid_t pid = 0;
      fields >> name >> pid;
      state.processes[name] = pid;
    } else if (key == "domain") {
      unsigned domid = 0;
      std::string name;
      fields >> domid >> name;
      state.domids[name] = domid;
    }
  }
  if (state.processes.empty() || state.domids.size() != guests) return std::nullopt;
  return state;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void spit(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

bool pid_alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

}  // namespace xenballoon::testing
