#include "agent.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <ctime>
#include <ostream>

#include "agent_metrics.h"
#include "xenballoon/config/reload.h"
#include "xenballoon/daemon/loop.h"
#include "xenballoon/daemon/signals.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/http/server.h"
#include "xenballoon/metrics/guest_families.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/service_manager.h"
#include "xenballoon/version.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::agent {
namespace {

using namespace std::chrono_literals;

// User and system CPU of the whole process, so libxenstore's reader thread counts too.
double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

constexpr const char* kProgram = "xenballoond";

}  // namespace

void CliOverrides::apply(AgentConfig& config) const {
  if (procfs) config.paths.procfs = *procfs;
  if (sysfs) config.paths.sysfs = *sysfs;
  if (listen_address) config.web.listen_address = *listen_address;
  if (pidfile) config.pidfile = *pidfile;
  if (log_level) config.log_level = *log_level;
}

Agent::Agent(AgentConfig config, AgentOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      metrics_(std::make_unique<AgentMetrics>(kVersion)),
      sensors_(config_.paths.procfs, config_.paths.sysfs, options_.dry_run, *metrics_),
      link_(options_.xenstore_socket, *metrics_),
      driver_(*metrics_, sensors_.balloon(), options_.dry_run),
      publisher_(*metrics_) {
  set_settings(config_);
}

Agent::~Agent() = default;

void Agent::notify_service_manager(const char* state) {
  auto sent = service_manager::notify(state);
  if (!sent && !notify_error_reported_) {
    log::warning(sent.error().message);
    notify_error_reported_ = true;
  }
}

void Agent::set_settings(const AgentConfig& config) {
  driver_.set_settings(policy_settings(config));
  std::vector<std::string> keep = config.vmstat_fields;
  for (const char* name : {"pswpin", "pswpout", "pgmajfault", "workingset_refault_file",
                           "workingset_activate_file", "oom_kill"}) {
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) keep.emplace_back(name);
  }
  sensors_.keep_vmstat(std::move(keep));
  log::set_level(config.log_level);
}

std::uint64_t Agent::interval_seconds() const {
  return effective_interval_seconds(config_.interval_seconds, link_.dom0().overrides);
}

void Agent::tick(const char* cause) {
  auto started = Clock::now();
  double cpu_started = process_cpu_seconds();
  auto target_event = link_.take_target_event();
  Readings r = sensors_.read();
  // The kernel's balloon driver follows memory/target through its own watch, which may fire
  // before ours: a target_kb that is neither what we wrote nor the target we know means dom0
  // has just moved it, so look before overriding it with a stale value.
  if (link_.connected() && r.balloon &&
      r.balloon->target_kib != driver_.last_written_kib().value_or(0) &&
      r.balloon->target_kib != link_.dom0().target_kib.value_or(0)) {
    link_.read_target();
    auto seen = link_.take_target_event();
    if (seen && !target_event) target_event = seen;
  }
  Decision d = driver_.decide(driver_.inputs(r, link_.dom0()));
  if (log::enabled(log::Level::kDebug))
    log::debug(std::string("tick (") + cause + "): " + describe(d));
  driver_.apply(d, r, interval_seconds(), target_event);
  {
    std::lock_guard lock(snapshot_mutex_);
    last_readings_ = std::move(r);
    last_decision_ = d;
    last_target_kib_ = driver_.last_target_kib();
    last_tick_ = Clock::now();
  }
  metrics_->tick_duration().Observe(std::chrono::duration<double>(Clock::now() - started).count());
  metrics_->tick_cpu().Increment(std::max(0.0, process_cpu_seconds() - cpu_started));
}

void Agent::publish() {
  if (!link_.ensure()) return;
  auto started = Clock::now();
  double cpu_started = process_cpu_seconds();
  link_.check_domid();
  if (!link_.connected()) return;
  Readings r;
  std::optional<Decision> d;
  std::optional<std::uint64_t> target;
  {
    std::lock_guard lock(snapshot_mutex_);
    r = last_readings_;
    d = last_decision_;
    target = last_target_kib_;
  }
  const Dom0View dom0 = link_.dom0();
  publish::GuestStats s = guest_stats(StatsSources{r, d, target, driver_.settings(),
                                                   options_.dry_run, config_.vmstat_fields, dom0});
  s.heartbeat_unix_seconds = std::time(nullptr);
  auto heartbeat = publisher_.publish(link_, s, r, config_.legacy_paths, config_.vmstat_fields);
  if (heartbeat) {
    std::lock_guard lock(snapshot_mutex_);
    last_heartbeat_ = *heartbeat;
  }
  metrics_->publish_duration().Observe(
      std::chrono::duration<double>(Clock::now() - started).count());
  metrics_->publish_cpu().Increment(std::max(0.0, process_cpu_seconds() - cpu_started));
}

void Agent::reload_config() {
  if (server_) daemon::reload_web_config(*server_, options_.web_config_file);
  auto loaded = config::reload(
      options_.config_path, config_, &load_agent_config,
      [this](auto& config) { options_.overrides.apply(config); },
      [](const auto& config) { return validate(config); });
  if (!loaded) {
    if (!options_.config_path.empty()) daemon::count_reload_error(daemon::ReloadFile::kConfig);
    return;
  }
  std::string old_procfs = config_.paths.procfs, old_sysfs = config_.paths.sysfs;
  config_ = std::move(*loaded);
  if (config_.paths.procfs != old_procfs || config_.paths.sysfs != old_sysfs) {
    sensors_.set_roots(config_.paths.procfs, config_.paths.sysfs);
  }
  set_settings(config_);
  publisher_.forget();
  log::info("SIGHUP: configuration reloaded from " + options_.config_path);
}

daemon::Health Agent::health() {
  std::lock_guard lock(snapshot_mutex_);
  if (!last_tick_) return {false, "no policy tick yet\n"};
  auto age = Clock::now() - *last_tick_;
  auto interval = std::chrono::seconds(interval_seconds());
  if (age > 3 * interval + 2s) {
    return {false,
            "last policy tick " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
                " s ago\n"};
  }
  return {true, "ok\n"};
}

std::string Agent::render_metrics() {
  publish::GuestStats g;
  {
    std::lock_guard lock(snapshot_mutex_);
    const Dom0View dom0 = link_.dom0();
    g = guest_stats(StatsSources{last_readings_, last_decision_, last_target_kib_,
                                 driver_.settings(), options_.dry_run, config_.vmstat_fields,
                                 dom0});
    if (last_heartbeat_) g.heartbeat_unix_seconds = last_heartbeat_;
  }
  std::string text =
      metrics::render_text({metrics::LabelledGuest{{}, &g, std::nullopt}}) + metrics_->render();
  daemon::append_reload_errors(text, metrics::kConfigReloadErrors);
  return text;
}

int Agent::run_once(std::ostream& out) {
  link_.ensure();
  Readings r = sensors_.read();
  PolicyInputs in = driver_.inputs(r, link_.dom0());
  auto show = [&](std::string_view name, const std::optional<std::uint64_t>& v, const char* unit) {
    out << "  " << name << ": " << (v ? std::to_string(*v) + unit : std::string("(unknown)"))
        << "\n";
  };
  out << "inputs:\n";
  show("Committed_AS", in.committed_as_kib, " KiB");
  show("MemTotal", in.memtotal_kib, " KiB");
  show("balloon target_kb", in.balloon_target_kib, " KiB");
  show("balloon current_kb", in.balloon_current_kib, " KiB");
  show(xenstore::keys::kTarget, in.dom0_target_kib, " KiB");
  show(xenstore::keys::kStaticMax, in.static_max_kib, " KiB");
  out << "  PSI some avg10: "
      << (in.psi_some_avg10 ? std::to_string(*in.psi_some_avg10) + " %" : "(unavailable)") << "\n";
  show("pswpin", in.pswpin, "");
  show("pgmajfault", in.pgmajfault, "");
  Decision d = driver_.decide(in);
  out << "policy: " << to_string(driver_.settings().kind)
      << (d.directed ? " (directed: selfballoon off)" : "") << "\n";
  out << "decision: " << describe(d) << "\n";
  if (d.skipped()) return 0;
  out << "floor: " << d.floor_kib << " KiB, ceiling: " << d.ceiling_kib
      << " KiB, goal: " << d.goal_kib << " KiB\n";
  if (options_.dry_run) {
    out << "action: none (dry run)\n";
  } else if (!r.balloon) {
    out << "action: none (no balloon driver)\n";
  } else if (*d.target_kib == r.balloon->target_kib) {
    out << "action: none (target already " << *d.target_kib << " KiB)\n";
  } else {
    auto written = sensors_.balloon().set_target_kib(*d.target_kib);
    if (!written) {
      out << "action: failed: " << written.error().message << "\n";
      return 1;
    }
    out << "action: wrote target_kb " << *d.target_kib << "\n";
  }
  return 0;
}

int Agent::run() {
  // Before the HTTP server and libxenstore start their threads, so that they inherit the
  // blocked signals.
  auto signals = daemon::SignalSet::open({SIGHUP});
  if (!signals) {
    log::error(signals.error().message);
    return 1;
  }
  auto server =
      http::Server::start(config_.web.listen_address,
                          daemon::standard_routes(
                              kProgram, "Balloon agent for Xen guests.",
                              [this] { return render_metrics(); }, [this] { return health(); }),
                          2, options_.web);
  if (!server) {
    log::error(server.error().message);
    return 1;
  }
  server_ = std::move(*server);
  log::info(std::string(kProgram) + " " + kVersion + " started: policy " +
            std::string(to_string(driver_.settings().kind)) + ", metrics on " +
            config_.web.listen_address + (options_.web.tls ? " (TLS)" : "") +
            (options_.dry_run ? ", dry run" : ""));

  link_.ensure();
  tick("start");
  publish();
  notify_service_manager("READY=1");

  // SIGTERM and SIGINT end the loop; SIGHUP reloads the configuration.
  daemon::Loop loop(*signals);
  loop.on_reload([this] { reload_config(); });
  const daemon::Loop::Id watches = loop.add_fd(-1, [this](short revents) {
    if (revents & (POLLIN | POLLHUP | POLLERR)) link_.handle_watch_events();
  });
  // The watchdog is fed by its own timer at half its interval, not from the ticks: dom0 may
  // stretch the tick interval (memory/interval) far beyond the unit's WatchdogSec.
  if (const auto watchdog = service_manager::watchdog_interval()) {
    loop.schedule_every(Clock::now(), std::chrono::duration_cast<Clock::duration>(*watchdog / 2),
                        [this] { notify_service_manager("WATCHDOG=1"); });
  }
  // Each pass follows up on what the last one brought (a lost connection, dom0 moving
  // memory/target, a deadline reached), then waits for the watch, a signal or the next
  // deadline. The first pass finds nothing to do: the start sequence above has just run.
  auto next_tick = Clock::now() + std::chrono::seconds(config_.interval_seconds);
  auto next_publish = Clock::now() + std::chrono::seconds(config_.publish_interval_seconds);
  loop.before_poll([&] {
    if (!link_.connected()) link_.ensure();
    const auto now = Clock::now();
    if (link_.target_changed()) {
      tick("memory/target changed");  // follow dom0 at once, not at the next interval
      next_tick = now + std::chrono::seconds(interval_seconds());
    } else if (now >= next_tick) {
      tick("interval");
      next_tick = now + std::chrono::seconds(interval_seconds());
    }
    if (now >= next_publish) {
      publish();
      next_publish = now + std::chrono::seconds(config_.publish_interval_seconds);
    }
    loop.set_fd(watches, link_.watch_fd());
    loop.wake_at(std::min(next_tick, next_publish));
    if (!link_.connected()) loop.wake_at(link_.next_reconnect());
  });
  if (auto ran = loop.run(); !ran) log::error(ran.error().message);

  notify_service_manager("STOPPING=1");
  log::info("stopping");
  driver_.restore_on_exit(config_.on_exit, link_.dom0());
  http::Server::leave_running_until_exit(std::move(server_));
  return 0;
}

}  // namespace xenballoon::agent
