#include "state_file.h"

#include <signal.h>

#include <cerrno>
#include <sstream>

#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim::host {
namespace {

// The kernel's name for the process (/proc/<pid>/comm), "" when it is gone.
std::string process_name(pid_t pid) {
  auto comm = read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!comm) return "";
  return std::string(trim(*comm));
}

}  // namespace

std::string render_state(const SimState& state) {
  std::ostringstream out;
  out << "# xenballoon-sim state\n";
  out << "pid " << state.pid << "\n";
  out << "model_seconds " << state.model_seconds << "\n";
  out << "xenstore " << state.dom0_socket << "\n";
  for (const auto& [name, url] : state.urls) out << "url " << name << " " << url << "\n";
  for (const DomainState& domain : state.domains) {
    out << "domain " << domain.domid << " " << domain.name << " " << domain.current_kib << " "
        << domain.max_pages_kib << " " << (domain.agent_url.empty() ? "-" : domain.agent_url)
        << "\n";
  }
  for (const auto& [name, pid] : state.processes) out << "process " << name << " " << pid << "\n";
  return out.str();
}

Result<SimState> parse_state(const std::string& text, const std::string& source_name) {
  SimState state;
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  auto problem = [&](const std::string& what) {
    return Error{source_name + ":" + std::to_string(line_number) + ": " + what};
  };
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "pid") {
      long long pid = 0;
      if (!(fields >> pid) || pid <= 0) return problem("bad pid");
      state.pid = static_cast<pid_t>(pid);
    } else if (key == "model_seconds") {
      if (!(fields >> state.model_seconds)) return problem("bad model_seconds");
    } else if (key == "xenstore") {
      std::getline(fields >> std::ws, state.dom0_socket);
      if (state.dom0_socket.empty()) return problem("empty xenstore socket");
    } else if (key == "url") {
      std::string name, url;
      if (!(fields >> name >> url)) return problem("expected: url NAME URL");
      state.urls.emplace_back(name, url);
    } else if (key == "domain") {
      DomainState domain;
      if (!(fields >> domain.domid >> domain.name >> domain.current_kib >> domain.max_pages_kib >>
            domain.agent_url)) {
        return problem("expected: domain DOMID NAME CURRENT_KIB MAX_PAGES_KIB AGENT_URL");
      }
      if (domain.agent_url == "-") domain.agent_url.clear();
      state.domains.push_back(domain);
    } else if (key == "process") {
      std::string name;
      long long pid = 0;
      if (!(fields >> name >> pid) || pid <= 0) return problem("expected: process NAME PID");
      state.processes.emplace_back(name, static_cast<pid_t>(pid));
    } else {
      return problem("unknown key \"" + key + "\"");
    }
  }
  if (state.pid <= 0 || state.dom0_socket.empty()) {
    return Error{source_name + ": incomplete (no pid or xenstore line)"};
  }
  return state;
}

Result<void> write_state_file(const std::string& path, const SimState& state) {
  return write_file_atomic(path, render_state(state));
}

Result<SimState> read_running_state(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    if (text.error().errnum == ENOENT) {
      return Error{"no xenballoon-sim is running with this run directory (no " + path +
                       "); start one with `xenballoon-sim run`, or pass the --rundir it uses",
                   ENOENT};
    }
    return text.error();
  }
  auto state = parse_state(*text, path);
  if (!state) return state.error();
  if (process_name(state->pid) != "xenballoon-sim") {
    return Error{"the xenballoon-sim that wrote " + path + " (pid " + std::to_string(state->pid) +
                     ") is no longer running",
                 ESRCH};
  }
  return state;
}

}  // namespace xenballoon::sim::host
