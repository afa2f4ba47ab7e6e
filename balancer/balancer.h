// xenballoon-balancer's daemon: every guest from xenstore (GuestCache kept by XenstoreFeed), host
// memory from libxenctrl or a host memory file, one balance::plan_step() per interval, its
// actions applied in order through a TargetSetter (only to a domid whose uuid is still the one the
// step saw), /metrics and /healthz, SIGHUP reload, SIGTERM stop leaving every target as it is.
// Not thread-safe: run() drives everything from one thread; the HTTP handlers read a snapshot
// under a mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "balancer_metrics.h"
#include "config.h"
#include "guarded_target.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/dom0/balance.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/host_memory.h"
#include "xenballoon/dom0/target_setter.h"
#include "xenballoon/dom0/xenstore_feed.h"
#include "xenballoon/result.h"
#include "xenballoon/xenstore/client.h"

namespace xenballoon::balancer {

// What the command line overrides in the configuration (also after a reload). Plain value.
struct CliOverrides {
  std::optional<std::string> listen_address, pidfile;
  std::optional<log::Level> log_level;
  bool dry_run = false;  // --dry-run: a dry run whatever the file says
  void apply(BalancerConfig& config) const;
};

// How the balancer runs. Plain value.
struct Options {
  std::string config_path;       // "" = built-in defaults (SIGHUP has nothing to reload)
  std::string host_memory_file;  // used when no hypervisor answers; "" = none
  std::string xenstore_socket;   // "" = libxenstore's own choice
  // How targets are set; null: memory/target through xenstore (dom0::XenstoreTargetSetter).
  std::shared_ptr<dom0::TargetSetter> target_setter;
  CliOverrides overrides;
  std::string web_config_file;  // --web.config.file, re-read on SIGHUP; "" = none
  http::WebConfig web;          // what it held at start
};

// Not thread-safe (see the file comment).
class Balancer {
 public:
  Balancer(BalancerConfig config, Options options);
  ~Balancer();
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  // Serves HTTP and steps until SIGTERM or SIGINT; the process's exit code.
  int run();

 private:
  using Clock = std::chrono::steady_clock;
  // What one domain was last seen as, for logging transitions once.
  struct Known {
    std::string uuid;
    dom0::balance::GuestState state = dom0::balance::GuestState::kOk;
    std::string unmanaged_reason;                 // why it is held without a rule saying so
    std::optional<std::uint64_t> dry_run_logged;  // the proposal a dry run last logged
  };

  void step();
  // Replaces the snapshot scrapes and /healthz read.
  void publish_snapshot(Snapshot next);
  void reload_config();
  void apply_config();
  std::optional<dom0::HostMemory> read_host();
  Result<void> set_target(std::uint32_t domid, const PlannedFrom& planned,
                          std::uint64_t target_kib);
  Result<void> ensure_writer();
  void drop_writer_on(const Error& error);
  daemon::Health health();
  std::string render_metrics();
  double monotonic_seconds() const;
  bool dry_run() const { return config_.dry_run || options_.overrides.dry_run; }

  BalancerConfig config_;
  Options options_;
  http::Server* server_ = nullptr;  // while run() serves; SIGHUP applies the web config to it
  dom0::balance::Settings settings_;
  dom0::balance::GuestProgress progress_;

  dom0::GuestCache cache_;
  dom0::XenstoreFeed feed_;
  std::unique_ptr<dom0::HostMemorySource> xenctrl_;
  std::unique_ptr<dom0::FileHostMemory> host_file_;
  std::string host_problem_;  // the last reason host memory was unknown ("" while known)

  std::unique_ptr<xenstore::Client> writer_;
  std::unique_ptr<dom0::TargetSetter> setter_;
  std::string writer_problem_;  // the last reason the writer could not connect

  Clock::time_point started_;
  std::optional<double> last_plan_seconds_;  // monotonic time of the last planned step
  std::map<std::uint32_t, Known> known_;
  bool xenstore_down_logged_ = false;
  bool dom0_unknown_logged_ = false;

  mutable std::mutex snapshot_mutex_;
  Snapshot snapshot_;
  std::optional<Clock::time_point> last_step_;  // under snapshot_mutex_
  std::string shared_host_problem_;             // under snapshot_mutex_, for /healthz
  std::uint64_t shared_interval_seconds_ = 5;   // under snapshot_mutex_, for /healthz
};

}  // namespace xenballoon::balancer
