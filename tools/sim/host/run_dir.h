// Where a running simulator keeps everything: one directory per run (the "run directory").
#pragma once

#include <cstdint>
#include <string>

#include "xenballoon/result.h"

namespace xenballoon::sim::host {

// ${XDG_RUNTIME_DIR:-/tmp}/xenballoon-sim: what `run`, `mem-set` and `list` use without --rundir.
std::string default_run_dir();

// The paths inside a run directory. A plain value; thread-safe (immutable after construction).
class RunDir {
 public:
  // `root` is made absolute: the agents and Prometheus get these paths in their configuration.
  explicit RunDir(const std::string& root);

  const std::string& root() const { return root_; }

  // The running simulator's state, for `list` and `mem-set` (state_file.h).
  std::string state_file() const { return root_ + "/state"; }

  std::string xenstore_dir() const { return root_ + "/xenstore"; }
  std::string dom0_socket() const { return xenstore_dir() + "/socket"; }
  std::string domain_socket(std::uint32_t domid) const {
    return xenstore_dir() + "/domain/" + std::to_string(domid) + "/socket";
  }
  std::string xenstore_dump() const { return xenstore_dir() + "/tree.txt"; }

  // Requests to the running simulator from `xenballoon-sim workload` (workload_command.h).
  std::string control_dir() const { return root_ + "/control"; }
  std::string workload_request(std::uint32_t domid) const {
    return control_dir() + "/workload-" + std::to_string(domid);
  }

  // Every guest's /proc and /sys as the model writes them: <guests_dir>/<name>/{proc,sys}.
  std::string guests_dir() const { return root_ + "/guests"; }
  std::string guest_root(const std::string& guest) const { return guests_dir() + "/" + guest; }
  // Each agent's generated configuration and its pidfile.
  std::string agents_dir() const { return root_ + "/agents"; }
  std::string agent_config(const std::string& guest) const {
    return agents_dir() + "/" + guest + ".yaml";
  }
  std::string agent_pidfile(const std::string& guest) const {
    return agents_dir() + "/" + guest + ".pid";
  }

  // The balancer's generated configuration and pidfile, and the host memory file the simulator
  // rewrites every model second for it ("total_kib free_kib", dom0/host_memory.h).
  std::string balancer_dir() const { return root_ + "/balancer"; }
  std::string balancer_config() const { return balancer_dir() + "/xenballoon-balancer.yaml"; }
  std::string balancer_pidfile() const { return balancer_dir() + "/xenballoon-balancer.pid"; }
  std::string host_memory_file() const { return root_ + "/host-memory"; }

  // One log per child process: stdout and stderr together.
  std::string logs_dir() const { return root_ + "/logs"; }
  std::string log_path(const std::string& process) const {
    return logs_dir() + "/" + process + ".log";
  }

  std::string prometheus_dir() const { return root_ + "/prometheus"; }
  std::string prometheus_config() const { return prometheus_dir() + "/prometheus.yml"; }
  std::string prometheus_rules_dir() const { return prometheus_dir() + "/rules"; }
  std::string prometheus_data() const { return prometheus_dir() + "/data"; }
  std::string alertmanager_dir() const { return root_ + "/alertmanager"; }
  std::string alertmanager_config() const { return alertmanager_dir() + "/alertmanager.yml"; }
  std::string alertmanager_data() const { return alertmanager_dir() + "/data"; }

  // Creates the directory and replaces what an earlier run left in it. Only the entries this
  // program creates are removed, so a --rundir pointing at a directory with other content keeps
  // that content.
  Result<void> prepare_fresh() const;

 private:
  std::string root_;
};

}  // namespace xenballoon::sim::host
