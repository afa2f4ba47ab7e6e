// xenballoond's main loop, the one place that sequences the agent's parts: the sensors
// (readings.h), the xenstore link (xenstore_link.h), the policy driver (policy_driver.h), the
// publisher (publisher.h) and the metrics (agent_metrics.h); it also serves /metrics and
// /healthz and reloads the configuration on SIGHUP. The loop is single-threaded; the HTTP
// server's threads read the last tick's snapshot under a mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "policy_driver.h"
#include "publisher.h"
#include "readings.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/http/web_config.h"
#include "xenballoon/policy/policy.h"
#include "xenballoon/util/log.h"
#include "xenstore_link.h"

namespace xenballoon::http {
class Server;
}
namespace xenballoon::daemon {
struct Health;
}

namespace xenballoon::agent {

// Command-line values that win over the configuration file, on start and on every reload.
struct CliOverrides {
  std::optional<std::string> procfs, sysfs, listen_address, pidfile;
  std::optional<log::Level> log_level;
  void apply(AgentConfig& config) const;
};

struct AgentOptions {
  std::string config_path;  // for SIGHUP reloads; empty: built-in defaults
  bool dry_run = false;
  std::string xenstore_socket;  // empty: libxenstore's default
  CliOverrides overrides;
  std::string web_config_file;  // --web.config.file, re-read on SIGHUP; empty: none
  http::WebConfig web;          // what it held at start
};

class AgentMetrics;

// Not copyable.
class Agent {
 public:
  Agent(AgentConfig config, AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Serves /metrics and loops until SIGTERM/SIGINT; returns the exit code.
  int run();
  // One tick, described on `out` (inputs, decision, reason); writes the target unless dry-run.
  int run_once(std::ostream& out);

 private:
  using Clock = std::chrono::steady_clock;

  void tick(const char* cause);
  void publish();
  std::uint64_t interval_seconds() const;

  void notify_service_manager(const char* state);
  void reload_config();
  void set_settings(const AgentConfig& config);
  std::string render_metrics();
  daemon::Health health();

  AgentConfig config_;
  AgentOptions options_;
  std::unique_ptr<AgentMetrics> metrics_;
  Sensors sensors_;
  XenstoreLink link_;
  PolicyDriver driver_;
  Publisher publisher_;
  std::unique_ptr<http::Server> server_;

  // state shown on /metrics and /healthz
  mutable std::mutex snapshot_mutex_;
  Readings last_readings_;
  std::optional<Decision> last_decision_;
  std::optional<std::uint64_t> last_target_kib_;
  std::optional<Clock::time_point> last_tick_;
  std::int64_t last_heartbeat_ = 0;

  bool notify_error_reported_ = false;
};

}  // namespace xenballoon::agent
