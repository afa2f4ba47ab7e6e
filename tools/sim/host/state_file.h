// The running simulator's state file (<rundir>/state): how `list` and `mem-set` find it, what the
// hypervisor would report (each guest's allocation), and the PIDs of its children. Rewritten
// atomically every model second; removed on a clean exit.
//
//   # xenballoon-sim state
//   pid 4242
//   model_seconds 125
//   xenstore /run/user/1000/xenballoon-sim/xenstore/socket
//   url exporter http://127.0.0.1:9751/metrics
//   domain 1 web 1048576 2098176 http://127.0.0.1:9752/metrics
//   process xenstored-lite 4243
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xenballoon/result.h"

namespace xenballoon::sim::host {

// One guest. A plain value.
struct DomainState {
  std::uint32_t domid = 0;
  std::string name;
  std::uint64_t current_kib = 0;
  std::uint64_t max_pages_kib = 0;
  std::string agent_url;
};

// A plain value.
struct SimState {
  pid_t pid = -1;
  std::int64_t model_seconds = 0;
  std::string dom0_socket;
  std::vector<std::pair<std::string, std::string>> urls;  // ("exporter", "http://...")
  std::vector<DomainState> domains;
  std::vector<std::pair<std::string, pid_t>> processes;  // children, ("xenballoond-web", 4250)
};

std::string render_state(const SimState& state);
Result<SimState> parse_state(const std::string& text, const std::string& source_name);

Result<void> write_state_file(const std::string& path, const SimState& state);

// The state of the simulator running with that state file; an error that says so when none is
// running there (no file, or its PID is gone or is not a xenballoon-sim).
Result<SimState> read_running_state(const std::string& path);

}  // namespace xenballoon::sim::host
