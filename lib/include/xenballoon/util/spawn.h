// Starting child processes that cannot outlive their parent: the test harness's daemons and the
// simulator's agents. Thread-safe (everything the child needs is prepared before fork()).
#pragma once

#include <sys/types.h>

#include <csignal>
#include <map>
#include <string>
#include <vector>

#include "xenballoon/result.h"

namespace xenballoon {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up on $PATH
  std::vector<std::string> env;   // the child's whole environment, "KEY=value" each
  int stdout_fd = -1;             // -1: inherit
  int stderr_fd = -1;             // -1: inherit; stdin is always /dev/null
  bool new_process_group = false;
  // Sent to the child when the thread that started it ends (PR_SET_PDEATHSIG): start children
  // from a thread that lives as long as they should.
  int parent_death_signal = SIGKILL;
};

// This process's environment with `overrides` set (added or replaced).
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides);

// Forks and execs; the child starts with no blocked signals and SIGPIPE at its default. Returns
// the child's pid once exec succeeded, or an error naming argv[0] when fork or exec failed (the
// failed child is reaped).
Result<pid_t> spawn(const SpawnOptions& options);

}  // namespace xenballoon
