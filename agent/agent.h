// xenballoond's main loop: read /proc and the balloon driver, decide with the policy, write the
// balloon target, follow dom0 through xenstore watches, publish, and serve /metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "xenballoon/balloon/driver.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/policy/policy.h"
#include "xenballoon/procfs/reader.h"
#include "xenballoon/publish/layout.h"

namespace xenballoon::xenstore {
class Client;
}
namespace xenballoon::http {
class Server;
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
};

class AgentMetrics;

// Single-threaded loop; the HTTP server reads a snapshot under a mutex. Not copyable.
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

  struct Readings {
    std::optional<Meminfo> meminfo;
    std::optional<Vmstat> vmstat;
    std::optional<Uptime> uptime;
    std::optional<PressureStats> pressure;
    std::optional<BalloonState> balloon;
  };

  void tick(const char* cause);
  Readings read_inputs();
  PolicyInputs policy_inputs(const Readings& r) const;
  void apply(const Decision& decision, const Readings& r, Clock::time_point started,
             std::optional<Clock::time_point> target_event);
  void publish();
  void publish_legacy(const Readings& r);

  bool ensure_xenstore();
  void disconnect_xenstore(const std::string& why);
  void handle_watch_events();
  void read_memory_key(const std::string& key);
  void reread_after_resume(const char* why);
  void count_xenstore_error(const char* operation, const Error& error);

  void notify_service_manager(const char* state);
  void reload_config();
  void restore_on_exit();
  void set_settings(const AgentConfig& config);
  std::string render_metrics();
  std::pair<bool, std::string> health();

  AgentConfig config_;
  AgentOptions options_;
  ProcfsReader procfs_;
  BalloonDriver balloon_;
  PolicySettings settings_;
  std::vector<std::string> vmstat_keep_;  // the published selection plus what the policy reads
  PolicyState policy_state_;
  std::unique_ptr<AgentMetrics> metrics_;
  std::unique_ptr<http::Server> server_;

  // xenstore
  std::unique_ptr<xenstore::Client> xs_;       // requests; both are set or both are null
  std::unique_ptr<xenstore::Client> watcher_;  // holds the watch on memory/
  Clock::time_point next_reconnect_{};
  std::chrono::milliseconds reconnect_backoff_{100};
  bool xs_ever_connected_ = false;
  std::optional<std::uint64_t> dom0_target_kib_;
  std::optional<std::uint64_t> static_max_kib_;
  Dom0Overrides overrides_;
  std::optional<Clock::time_point> pending_target_event_;
  std::map<std::string, std::string> published_;
  bool legacy_denied_reported_ = false;

  // state shown on /metrics and /healthz
  mutable std::mutex snapshot_mutex_;
  Readings last_readings_;
  std::optional<Decision> last_decision_;
  std::optional<std::uint64_t> last_target_kib_;
  std::optional<std::uint64_t> last_written_kib_;  // what this agent last wrote to target_kb
  std::optional<std::string> domid_;               // changes across save/restore and migration
  std::optional<Clock::time_point> last_tick_;
  std::int64_t last_heartbeat_ = 0;

  // say-once flags
  bool psi_absent_reported_ = false;
  bool notify_error_reported_ = false;
  bool balloon_absent_reported_ = false;
  std::optional<SkipReason> last_skip_logged_;
  bool stopping_ = false;
  bool reload_requested_ = false;
  int signal_fd_ = -1;
};

}  // namespace xenballoon::agent
