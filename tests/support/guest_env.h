// Test support: one simulated guest for the real xenballoond binary: writable /proc and /sys
// trees copied from fixtures, a xenstored-lite with the guest laid out as libxl does, and the
// agent process. Not thread-safe; one per test.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.h"
#include "xs_client.h"

namespace xenballoon::testing {

class GuestEnv {
 public:
  static constexpr unsigned kDomid = 7;

  // `config_yaml` is written to the agent's config file (paths are set by flags).
  explicit GuestEnv(std::string config_yaml = "", std::uint64_t dom0_target_kib = 262144,
                    std::uint64_t static_max_kib = 524288);
  ~GuestEnv();

  // Starts xenballoond; extra flags are appended. Waits for /healthz over plain HTTP unless
  // !wait_for_healthz (an agent serving TLS or basic auth). `extra_env` is added to its
  // environment and wins over XENSTORED_PATH (a fault library, a proxy's socket).
  void start_agent(std::vector<std::string> extra_flags = {}, bool wait_for_healthz = true,
                   const std::map<std::string, std::string>& extra_env = {});
  ChildProcess& agent() { return *agent_; }
  std::string agent_log() const;

  Xenstored& xenstored() { return *xenstored_; }
  XsHandle& dom0() { return *dom0_; }
  std::string home() const { return "/local/domain/" + std::to_string(kDomid); }
  std::uint16_t port() const { return port_; }
  const std::string& root() const { return dir_.path(); }
  std::string pidfile() const { return dir_.path() + "/xenballoond.pid"; }
  std::string config_path() const { return dir_.path() + "/xenballoond.yaml"; }
  std::string procfs() const { return dir_.path() + "/proc"; }
  std::string sysfs() const { return dir_.path() + "/sys"; }

  // The guest's kernel side.
  std::optional<std::uint64_t> target_kb() const;
  void set_meminfo_field(const std::string& field, std::uint64_t kib);
  void set_vmstat_counter(const std::string& name, std::uint64_t value);
  void set_psi_some_avg10(double percent);

  // Polls `predicate` every 2 ms until true or `timeout`.
  static bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);
  // The value of one metric line ("name{labels}" exactly as exposed) from /metrics.
  std::optional<double> metric(const std::string& series);
  std::string scrape();

 private:
  TempDir dir_;
  std::unique_ptr<Xenstored> xenstored_;
  std::unique_ptr<XsHandle> dom0_;
  std::unique_ptr<ChildProcess> agent_;
  std::uint16_t port_ = 0;
};

// Path of the xenballoond binary under test (set by CMake).
std::string xenballoond_binary();

}  // namespace xenballoon::testing
