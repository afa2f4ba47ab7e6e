// Starting child processes that cannot outlive their parent: the test harness's daemons and the
// simulator's agents. Thread-safe (everything the child needs is prepared before fork()).
#pragma once

#include <sys/types.h>

#include <csignal>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// The first executable regular file called `name` in the directories of $PATH, in order (an
// empty entry is the working directory; an unset or empty $PATH is /usr/local/bin:/usr/bin:/bin),
// as "<directory>/<name>"; nullopt when there is none or `name` is empty or holds a '/'.
std::optional<std::string> find_in_path(std::string_view name);

// This process's environment with `overrides` set (added or replaced).
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides);

// Forks and execs; the child starts with no blocked signals and SIGPIPE at its default. Returns
// the child's pid once exec succeeded, or an error naming argv[0] when fork or exec failed (the
// failed child is reaped).
Result<pid_t> spawn(const SpawnOptions& options);

}  // namespace xenballoon
