// Child processes of the simulator, started, watched and stopped by PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "xenballoon/result.h"

namespace xenballoon::sim::host {

// How to start one child. A plain value.
struct ProcessSpec {
  std::string name;  // unique; names the log file and the process in messages
  std::vector<std::string> argv;
  std::map<std::string, std::string> extra_env;  // on top of the simulator's environment
  std::string log_path;                          // stdout and stderr, appended
  // stop_all() stops lower stages first: the agents need xenstored while they shut down, and
  // Prometheus stopping first does not see its targets and Alertmanager vanish.
  int stop_stage = 0;
};

// A child that ended on its own. A plain value.
struct ExitedProcess {
  std::string name;
  pid_t pid = -1;
  std::string how;  // "exited with status 1", "was killed by signal 9"
};

// Starts children in their own process group (a Ctrl-C reaches only the simulator, which then
// stops them in order) with the parent-death signal set, so none outlives a simulator that is
// killed outright. stop_all() (also run by the destructor) signals only the PIDs it started.
// Not thread-safe: use from one thread.
class ProcessSupervisor {
 public:
  ProcessSupervisor() = default;
  ~ProcessSupervisor();
  ProcessSupervisor(const ProcessSupervisor&) = delete;
  ProcessSupervisor& operator=(const ProcessSupervisor&) = delete;

  // Starts the child; an exec failure (no such file, not executable) is reported here.
  Result<pid_t> start(const ProcessSpec& spec);

  // Reaps children that have ended since the last call.
  std::vector<ExitedProcess> reap();

  bool is_running(const std::string& name) const;

  // Name and PID of every child still running, in start order.
  std::vector<std::pair<std::string, pid_t>> running() const;

  // Stage by stage, lowest first: SIGTERM to every child of the stage, up to `grace` for them to
  // exit, SIGKILL for the rest. Returns the names of children that needed SIGKILL.
  std::vector<std::string> stop_all(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  struct Child {
    ProcessSpec spec;
    pid_t pid = -1;
  };

  std::vector<std::string> stop_stage(int stage, std::chrono::milliseconds grace);

  std::vector<Child> children_;
};

// "exited with status N" / "was killed by signal N (SIGKILL)" for a waitpid() status.
std::string describe_wait_status(int status);

}  // namespace xenballoon::sim::host
