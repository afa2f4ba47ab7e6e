// Test helpers for tests that run the simulated host (`xenballoon-sim run`): a run of free ports
// for its daemons, and its state file read back. Plain functions, thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace xenballoon::testing {

// `count` consecutive ports on 127.0.0.1 that were free a moment ago (the simulator's
// --base-port takes the exporter, the agents and the balancer from one base). Throws when none
// is found.
std::uint16_t free_port_run(int count);

// What tests need of the simulator's state file (<rundir>/state): its "process NAME PID" and
// "domain DOMID NAME ..." lines.
struct SimState {
  std::map<std::string, pid_t> processes;
  std::map<std::string, unsigned> domids;
};

// The state file at `path` once it lists some process and exactly `guests` domains; nullopt
// before (or when it cannot be read).
std::optional<SimState> read_sim_state(const std::string& path, std::size_t guests);

// The whole file, or "" when it cannot be read.
std::string slurp(const std::string& path);

// Replaces `path` with `text` at once (a temporary file beside it, renamed over it), as the
// kernel's files change under a reader: never half written.
void spit(const std::string& path, const std::string& text);

// The process exists (possibly a zombie not yet reaped).
bool pid_alive(pid_t pid);

}  // namespace xenballoon::testing
