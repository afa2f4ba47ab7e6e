#include "agent.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <ostream>

#include "agent_metrics.h"
#include "xenballoon/http/server.h"
#include "xenballoon/metrics/guest_families.h"
#include "xenballoon/policy/floor.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/util/service_manager.h"
#include "xenballoon/version.h"
#include "xenballoon/xenstore/client.h"

namespace xenballoon::agent {
namespace {

using namespace std::chrono_literals;

// User and system CPU of the whole process, so libxenstore's reader thread counts too.
double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

constexpr const char* kWatchToken = "xenballoond-memory";
constexpr auto kMaxReconnectBackoff = 5000ms;
const std::set<std::string> kOverrideKeys = {"selfballoon", "interval", "uphysteresis",
                                             "downhysteresis", "minmem"};

std::optional<std::uint64_t> kib(const std::optional<std::uint64_t>& bytes) {
  if (!bytes) return std::nullopt;
  return *bytes / 1024;
}

std::string join_lines(const std::vector<std::pair<std::string, std::uint64_t>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) out += k + " " + std::to_string(v) + "\n";
  return out;
}

// Range of each dom0 override, the same limits validate() uses for the config keys.
std::optional<std::string> check_override(const std::string& key, std::uint64_t value) {
  if (key == "selfballoon" && value > 1) return "must be 0 or 1";
  if (key == "interval" && (value < 1 || value > kMaxIntervalSeconds)) {
    return "must be 1.." + std::to_string(kMaxIntervalSeconds) + " seconds";
  }
  if ((key == "uphysteresis" || key == "downhysteresis") && value > kMaxHysteresis) {
    return "must be 0.." + std::to_string(kMaxHysteresis);
  }
  if (key == "minmem" && value != 0 && (value < kMinMinmemMib || value > kMaxSizeMib)) {
    return "must be 0 or " + std::to_string(kMinMinmemMib) + ".." + std::to_string(kMaxSizeMib) +
           " MiB";
  }
  return std::nullopt;
}

std::optional<std::uint64_t>* override_slot(Dom0Overrides& o, const std::string& key) {
  if (key == "selfballoon") return &o.selfballoon;
  if (key == "interval") return &o.interval_seconds;
  if (key == "uphysteresis") return &o.uphysteresis;
  if (key == "downhysteresis") return &o.downhysteresis;
  if (key == "minmem") return &o.minmem_mib;
  return nullptr;
}

const char* kLanding = R"(<!DOCTYPE html>
<html><head><title>xenballoond</title></head>
<body><h1>xenballoond</h1>
<p>Balloon agent for Xen guests.</p>
<ul><li><a href="/metrics">Metrics</a></li><li><a href="/healthz">Health</a></li></ul>
</body></html>
)";

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
      procfs_(config_.paths.procfs),
      balloon_(config_.paths.sysfs, config_.paths.procfs),
      metrics_(std::make_unique<AgentMetrics>(kVersion)) {
  set_settings(config_);
}

Agent::~Agent() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

void Agent::notify_service_manager(const char* state) {
  auto sent = service_manager::notify(state);
  if (!sent && !notify_error_reported_) {
    log::warning(sent.error().message);
    notify_error_reported_ = true;
  }
}

void Agent::set_settings(const AgentConfig& config) {
  settings_ = policy_settings(config);
  vmstat_keep_ = config.vmstat_fields;
  for (const char* name : {"pswpin", "pgmajfault"}) {
    if (std::find(vmstat_keep_.begin(), vmstat_keep_.end(), name) == vmstat_keep_.end()) {
      vmstat_keep_.emplace_back(name);
    }
  }
  log::set_level(config.log_level);
}

bool Agent::ensure_xenstore() {
  if (xs_) return true;
  if (Clock::now() < next_reconnect_) return false;
  auto client = xenstore::Client::open(options_.xenstore_socket);
  if (!client) {
    if (!xs_ever_connected_ && reconnect_backoff_ == 100ms) {
      log::warning("no xenstore yet (" + client.error().message +
                   "); running without dom0's target and publishing, retrying in the background");
    }
    next_reconnect_ = Clock::now() + reconnect_backoff_;
    reconnect_backoff_ = std::min(reconnect_backoff_ * 2, kMaxReconnectBackoff);
    return false;
  }
  // Two connections: one holds the watch, and so libxenstore's reader thread through which
  // every reply on it would travel; the other makes the requests, whose replies come straight
  // back to this thread (about half the CPU per request).
  auto requests = xenstore::Client::open(options_.xenstore_socket);
  Result<void> watched = requests ? (*client)->watch("memory", kWatchToken) : Result<void>();
  if (!requests || !watched) {
    if (!watched) count_xenstore_error("watch", watched.error());
    next_reconnect_ = Clock::now() + reconnect_backoff_;
    reconnect_backoff_ = std::min(reconnect_backoff_ * 2, kMaxReconnectBackoff);
    return false;
  }
  watcher_ = std::move(*client);
  xs_ = std::move(*requests);
  if (xs_ever_connected_) {
    metrics_->xenstore_reconnects().Increment();
    log::info("reconnected to xenstore");
  } else {
    log::info("connected to xenstore");
  }
  xs_ever_connected_ = true;
  reconnect_backoff_ = 100ms;
  metrics_->xenstore_connected().Set(1);
  reread_after_resume("connected");
  return xs_ != nullptr;
}

// After a restore or migration the domain id, its home and its static-max may have changed, and
// the new home holds none of our keys. In a PV guest the xenbus connection survives a restore,
// so this runs on every sign of one: a (re)connection, the watch registering afresh (the kernel
// re-registers watches on resume, which fires the initial event again) or a new domid.
void Agent::reread_after_resume(const char* why) {
  if (!xs_) return;
  log::debug(std::string("reading memory/ afresh (") + why + ")");
  published_.clear();
  for (const char* key : {"target", "static-max", "selfballoon", "interval", "uphysteresis",
                          "downhysteresis", "minmem"}) {
    read_memory_key(key);
  }
  if (auto domid = xs_->read("domid")) domid_ = *domid;
}

void Agent::disconnect_xenstore(const std::string& why) {
  if (!xs_) return;
  log::warning("lost xenstore (" + why + "); reconnecting with backoff");
  xs_.reset();
  watcher_.reset();
  metrics_->xenstore_connected().Set(0);
  next_reconnect_ = Clock::now() + reconnect_backoff_;
}

void Agent::count_xenstore_error(const char* operation, const Error& error) {
  metrics_->xenstore_error(operation, xenstore::errno_name(error.errnum)).Increment();
  log::debug(error.message);
  if (xenstore::is_connection_error(error)) disconnect_xenstore(error.message);
}

void Agent::read_memory_key(const std::string& key) {
  if (!xs_) return;
  auto value = xs_->read("memory/" + key);
  if (!value) {
    if (value.error().errnum != ENOENT) count_xenstore_error("read", value.error());
    if (key == "target") dom0_target_kib_.reset();
    if (key == "static-max") static_max_kib_.reset();
    if (auto* slot = override_slot(overrides_, key)) slot->reset();
    return;
  }
  auto number = parse_u64(trim(*value));
  if (key == "target" || key == "static-max") {
    auto& field = key == "target" ? dom0_target_kib_ : static_max_kib_;
    if (!number) log::warning("memory/" + key + " is not a number: \"" + *value + "\"");
    // A new dom0 target is followed at once, whichever read noticed it.
    if (key == "target" && field && number && field != number) {
      pending_target_event_ = Clock::now();
    }
    field = number;
    return;
  }
  auto* slot = override_slot(overrides_, key);
  if (!slot) return;
  std::optional<std::string> problem;
  if (!number) {
    problem = "not a whole number";
  } else {
    problem = check_override(key, *number);
  }
  if (problem) {
    log::warning("ignoring dom0 override memory/" + key + " = \"" + value->substr(0, 64) +
                 "\": " + *problem);
    metrics_->override_error(key).Increment();
    slot->reset();
    return;
  }
  if (*slot != number) log::info("dom0 override memory/" + key + " = " + std::to_string(*number));
  *slot = number;
}

void Agent::handle_watch_events() {
  if (!watcher_) return;
  while (auto event = watcher_->next_event()) {
    if (event->token != kWatchToken) continue;
    std::string path = event->path;
    if (path == "memory") {  // the watch's initial event: at start and again after a resume
      reread_after_resume("watch registered");
      continue;
    }
    auto slash = path.rfind("memory/");
    if (slash == std::string::npos) continue;
    std::string key = path.substr(slash + 7);
    if (key == "target" || key == "static-max" || kOverrideKeys.count(key)) {
      read_memory_key(key);
    }
  }
}

Agent::Readings Agent::read_inputs() {
  Readings r;
  if (auto m = procfs_.meminfo()) {
    r.meminfo = std::move(*m);
  } else {
    log::warning(m.error().message);
  }
  if (auto v = procfs_.vmstat(&vmstat_keep_)) {
    r.vmstat = std::move(*v);
  } else {
    log::warning(v.error().message);
  }
  if (auto u = procfs_.uptime()) r.uptime = *u;
  auto p = procfs_.pressure_memory();
  if (p) {
    r.pressure = *p;
  } else if (p.error().errnum == ENOENT) {
    if (!psi_absent_reported_) {
      log::info("no PSI on this kernel (" + p.error().message +
                "): pressure detection uses swap-in and major-fault bursts only");
      psi_absent_reported_ = true;
    }
  } else {
    log::warning(p.error().message);
  }
  auto b = balloon_.read(BalloonFields::kTargetAndCurrent);
  if (b) {
    r.balloon = *b;
    balloon_absent_reported_ = false;
  } else if (!balloon_absent_reported_) {
    log::warning("cannot balloon: " + b.error().message +
                 (options_.dry_run ? "" : "; targets are computed but not written"));
    balloon_absent_reported_ = true;
  }
  return r;
}

PolicyInputs Agent::policy_inputs(const Readings& r) const {
  PolicyInputs in;
  in.now = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch());
  if (r.meminfo) {
    in.committed_as_kib = kib(r.meminfo->get("Committed_AS"));
    in.memtotal_kib = kib(r.meminfo->get("MemTotal"));
  }
  if (r.balloon) {
    in.balloon_target_kib = r.balloon->target_kib;
    in.balloon_current_kib = r.balloon->current_kib;
  }
  in.dom0_target_kib = dom0_target_kib_;
  in.static_max_kib = static_max_kib_;
  if (r.pressure) in.psi_some_avg10 = r.pressure->some.avg10;
  if (r.vmstat) {
    in.pswpin = r.vmstat->get("pswpin");
    in.pgmajfault = r.vmstat->get("pgmajfault");
  }
  in.overrides = overrides_;
  return in;
}

void Agent::apply(const Decision& d, const Readings& r, Clock::time_point started,
                  std::optional<Clock::time_point> target_event) {
  metrics_->setting(Setting::kSelfballoon).Set(d.effective.selfballoon ? 1 : 0);
  metrics_->setting(Setting::kUphysteresis).Set(static_cast<double>(d.effective.uphysteresis));
  metrics_->setting(Setting::kDownhysteresis).Set(static_cast<double>(d.effective.downhysteresis));
  metrics_->setting(Setting::kMinmemMib).Set(static_cast<double>(d.effective.minmem_mib));
  metrics_->setting(Setting::kIntervalSeconds)
      .Set(static_cast<double>(effective_interval_seconds(config_.interval_seconds, overrides_)));
  metrics_->pressure(Signal::kPsi).Set(d.signals.psi_high ? 1 : 0);
  metrics_->pressure(Signal::kSwapin).Set(d.signals.swapin_burst ? 1 : 0);
  metrics_->pressure(Signal::kMajfault).Set(d.signals.majfault_burst ? 1 : 0);
  if (d.hold != ShrinkHold::kNone) metrics_->shrink_held(d.hold).Increment();
  if (d.skipped()) {
    metrics_->skipped(d.skip_reason).Increment();
    if (last_skip_logged_ != d.skip_reason) {
      log::warning("no balloon target this tick: " + describe(d));
      last_skip_logged_ = d.skip_reason;
    }
    return;
  }
  if (last_skip_logged_) {
    log::info("balloon targets resume: " + describe(d));
    last_skip_logged_.reset();
  }
  // decide() has rounded to a page and finished a small step already.
  const std::uint64_t target = *d.target_kib;
  last_target_kib_ = target;
  if (!r.balloon || options_.dry_run) return;
  if (target == r.balloon->target_kib) return;
  auto written = balloon_.set_target_kib(target);
  if (!written) {
    metrics_->balloon_write_errors().Increment();
    log::error(written.error().message);
    return;
  }
  last_written_kib_ = target;
  metrics_->adjustment(target > r.balloon->target_kib ? "up" : "down").Increment();
  log::debug("balloon target " + std::to_string(r.balloon->target_kib) + " -> " +
             std::to_string(target) + " KiB: " + describe(d));
  if (target_event) {
    metrics_->directed_latency().Observe(
        std::chrono::duration<double>(Clock::now() - *target_event).count());
  }
  (void)started;
}

void Agent::tick(const char* cause) {
  auto started = Clock::now();
  double cpu_started = process_cpu_seconds();
  auto target_event = pending_target_event_;
  pending_target_event_.reset();
  Readings r = read_inputs();
  // The kernel's balloon driver follows memory/target through its own watch, which may fire
  // before ours: a target_kb that is neither what we wrote nor the target we know means dom0
  // has just moved it, so look before overriding it with a stale value.
  if (xs_ && r.balloon && r.balloon->target_kib != last_written_kib_.value_or(0) &&
      r.balloon->target_kib != dom0_target_kib_.value_or(0)) {
    read_memory_key("target");
    if (pending_target_event_ && !target_event) target_event = pending_target_event_;
    pending_target_event_.reset();
  }
  Decision d = decide(policy_inputs(r), policy_state_, settings_);
  if (log::enabled(log::Level::kDebug))
    log::debug(std::string("tick (") + cause + "): " + describe(d));
  apply(d, r, started, target_event);
  {
    std::lock_guard lock(snapshot_mutex_);
    last_readings_ = std::move(r);
    last_decision_ = d;
    last_tick_ = Clock::now();
  }
  metrics_->tick_duration().Observe(std::chrono::duration<double>(Clock::now() - started).count());
  metrics_->tick_cpu().Increment(std::max(0.0, process_cpu_seconds() - cpu_started));
}

void Agent::publish() {
  if (!ensure_xenstore()) return;
  auto started = Clock::now();
  double cpu_started = process_cpu_seconds();
  if (auto domid = xs_->read("domid"); domid && domid_ && *domid != *domid_) {
    log::info("domain id changed from " + *domid_ + " to " + *domid +
              " (restored or migrated): publishing everything again");
    reread_after_resume("domid changed");
  }
  publish::Snapshot s;
  Readings r;
  std::optional<Decision> d;
  {
    std::lock_guard lock(snapshot_mutex_);
    r = last_readings_;
    d = last_decision_;
  }
  s.agent = std::string("xenballoond ") + kVersion;
  s.heartbeat_unix_seconds = std::time(nullptr);
  bool selfballoon = d ? d->effective.selfballoon : settings_.selfballoon;
  s.mode = options_.dry_run ? "dry-run" : selfballoon ? "selfballoon" : "directed";
  s.policy = std::string(to_string(settings_.kind));
  s.target_kib = last_target_kib_;
  if (d && d->floor_kib) s.floor_kib = d->floor_kib;
  if (r.balloon) s.current_kib = r.balloon->current_kib;
  if (r.meminfo) {
    for (const auto& f : r.meminfo->fields) {
      s.meminfo_kib.emplace_back(f.name, f.has_kb_unit ? f.value / 1024 : f.value);
    }
  }
  if (r.vmstat) {
    for (const auto& name : config_.vmstat_fields) {
      if (auto v = r.vmstat->get(name)) s.vmstat.emplace_back(name, *v);
    }
  }
  if (r.uptime) s.uptime = std::make_pair(r.uptime->uptime_seconds, r.uptime->idle_seconds);
  if (r.pressure) {
    const auto& some = r.pressure->some;
    s.psi_some = publish::Snapshot::Psi{some.avg10, some.avg60, some.avg300, some.total_us};
    if (r.pressure->full) {
      const auto& full = *r.pressure->full;
      s.psi_full = publish::Snapshot::Psi{full.avg10, full.avg60, full.avg300, full.total_us};
    }
  }
  publish::Encoded encoded = publish::encode(s);
  for (const auto& key : encoded.truncated) {
    log::debug("publication: " + key + " cut to fit the xenstore value limit");
  }
  std::map<std::string, std::string> changed;
  for (const auto& [key, value] : encoded.values) {
    auto it = published_.find(key);
    if (it == published_.end() || it->second != value) changed[key] = value;
  }
  std::string dir(publish::kDir);
  auto result = xs_->transact([&](xenstore::Transaction& tx) -> Result<void> {
    for (const auto& [key, value] : changed) {
      auto w = tx.write(dir + "/" + key, value);
      if (!w) return w;
    }
    return {};
  });
  if (!result) {
    metrics_->publication("error").Increment();
    count_xenstore_error("publish", result.error());
    log::warning("publication failed: " + result.error().message);
  } else {
    metrics_->publication("ok").Increment();
    for (auto& [key, value] : changed) published_[key] = std::move(value);
    std::lock_guard lock(snapshot_mutex_);
    last_heartbeat_ = s.heartbeat_unix_seconds;
  }
  if (config_.legacy_paths && xs_) publish_legacy(r);
  metrics_->publish_duration().Observe(
      std::chrono::duration<double>(Clock::now() - started).count());
  metrics_->publish_cpu().Increment(std::max(0.0, process_cpu_seconds() - cpu_started));
}

void Agent::publish_legacy(const Readings& r) {
  // The 2008 daemon's keys and formats; dom0 must have made memory/ writable for us.
  std::map<std::string, std::string> values;
  if (r.meminfo) {
    std::string text;
    for (const auto& f : r.meminfo->fields) {
      // As the kernel prints it: "Name:" padded to 16 columns, the value right-aligned in 8.
      char line_buf[96];
      std::snprintf(line_buf, sizeof line_buf, "%-16s%8llu%s\n", (f.name + ":").c_str(),
                    static_cast<unsigned long long>(f.has_kb_unit ? f.value / 1024 : f.value),
                    f.has_kb_unit ? " kB" : "");
      std::string line = line_buf;
      if (text.size() + line.size() > publish::kMaxValueBytes) break;
      text += line;
    }
    if (!text.empty()) text.pop_back();  // `cat` inside backquotes dropped the last newline
    values[std::string(publish::legacy::kMeminfo)] = text;
  }
  if (r.vmstat) {
    std::vector<std::pair<std::string, std::uint64_t>> selected;
    for (const auto& name : config_.vmstat_fields) {
      if (auto v = r.vmstat->get(name)) selected.emplace_back(name, *v);
    }
    std::string text = join_lines(selected);
    if (!text.empty()) text.pop_back();
    values[std::string(publish::legacy::kVmstat)] = text.substr(0, publish::kMaxValueBytes);
  }
  if (r.uptime) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %.2f", r.uptime->uptime_seconds, r.uptime->idle_seconds);
    values[std::string(publish::legacy::kUptime)] = buf;
  }
  if (last_target_kib_) {
    values[std::string(publish::legacy::kSelftarget)] = std::to_string(*last_target_kib_);
  }
  for (const auto& [path, value] : values) {
    auto w = xs_->write(path, value);
    if (w) continue;
    if (w.error().errnum == EACCES) {
      if (!legacy_denied_reported_) {
        log::warning("legacy_paths: dom0 has not granted write access to memory/ (" +
                     w.error().message + "); the 2008 keys are not written");
        legacy_denied_reported_ = true;
      }
      metrics_->xenstore_error("legacy_write", "EACCES").Increment();
      return;
    }
    count_xenstore_error("legacy_write", w.error());
    return;
  }
  legacy_denied_reported_ = false;
}

void Agent::reload_config() {
  if (options_.config_path.empty()) {
    log::info("SIGHUP: no configuration file to reload (running on defaults)");
    return;
  }
  auto loaded = load_agent_config(options_.config_path);
  if (loaded) {
    options_.overrides.apply(*loaded);
    auto problems = validate(*loaded);
    if (!problems.empty()) loaded = Error{format_errors(problems)};
  }
  if (!loaded) {
    log::error("SIGHUP: keeping the running configuration; the new one is invalid:\n" +
               loaded.error().message);
    return;
  }
  if (loaded->web.listen_address != config_.web.listen_address) {
    log::warning("SIGHUP: web.listen_address changes only on restart");
  }
  if (loaded->pidfile != config_.pidfile) log::warning("SIGHUP: pidfile changes only on restart");
  std::string old_procfs = config_.paths.procfs, old_sysfs = config_.paths.sysfs;
  config_ = std::move(*loaded);
  if (config_.paths.procfs != old_procfs || config_.paths.sysfs != old_sysfs) {
    procfs_ = ProcfsReader(config_.paths.procfs);
    balloon_ = BalloonDriver(config_.paths.sysfs, config_.paths.procfs);
  }
  set_settings(config_);
  published_.clear();
  log::info("SIGHUP: configuration reloaded from " + options_.config_path);
}

void Agent::restore_on_exit() {
  if (options_.dry_run || config_.on_exit == OnExit::kLeave) return;
  std::optional<std::uint64_t> target =
      config_.on_exit == OnExit::kDom0Target ? dom0_target_kib_ : static_max_kib_;
  if (!target || *target == 0) {
    log::warning(std::string("on exit: cannot restore the balloon target: ") +
                 (config_.on_exit == OnExit::kDom0Target ? "memory/target" : "memory/static-max") +
                 " is unknown");
    return;
  }
  auto current = balloon_.read(BalloonFields::kTargetAndCurrent);
  if (current && current->target_kib == *target) return;
  auto written = balloon_.set_target_kib(*target);
  if (written) {
    log::info("on exit: balloon target restored to " + std::to_string(*target) + " KiB (" +
              std::string(to_string(config_.on_exit)) + ")");
  } else {
    log::error("on exit: " + written.error().message);
  }
}

std::pair<bool, std::string> Agent::health() {
  std::lock_guard lock(snapshot_mutex_);
  if (!last_tick_) return {false, "no policy tick yet\n"};
  auto age = Clock::now() - *last_tick_;
  auto interval =
      std::chrono::seconds(effective_interval_seconds(config_.interval_seconds, overrides_));
  if (age > 3 * interval + 2s) {
    return {false,
            "last policy tick " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
                " s ago\n"};
  }
  return {true, "ok\n"};
}

std::string Agent::render_metrics() {
  metrics::GuestSample g;
  {
    std::lock_guard lock(snapshot_mutex_);
    const Readings& r = last_readings_;
    if (r.meminfo) {
      for (const auto& f : r.meminfo->fields) g.meminfo.push_back({f.name, f.value, f.has_kb_unit});
    }
    if (r.vmstat) {
      for (const auto& name : config_.vmstat_fields) {
        if (auto v = r.vmstat->get(name)) g.vmstat.emplace_back(name, *v);
      }
    }
    if (r.uptime) g.uptime_seconds = r.uptime->uptime_seconds;
    if (r.pressure) {
      g.psi_some_avg10 = r.pressure->some.avg10;
      g.psi_some_total_us = r.pressure->some.total_us;
      if (r.pressure->full) {
        g.psi_full_avg10 = r.pressure->full->avg10;
        g.psi_full_total_us = r.pressure->full->total_us;
      }
    }
    if (last_target_kib_) g.balloon_target_bytes = *last_target_kib_ * 1024;
    if (r.balloon) g.balloon_current_bytes = r.balloon->current_kib * 1024;
    if (last_decision_ && last_decision_->floor_kib) {
      g.balloon_floor_bytes = last_decision_->floor_kib * 1024;
    }
    if (static_max_kib_) g.static_max_bytes = *static_max_kib_ * 1024;
    if (dom0_target_kib_) g.dom0_target_bytes = *dom0_target_kib_ * 1024;
    bool selfballoon =
        last_decision_ ? last_decision_->effective.selfballoon : settings_.selfballoon;
    g.selfballoon = selfballoon;
    g.agent = metrics::GuestSample::AgentInfo{kVersion, std::string(to_string(settings_.kind)),
                                              options_.dry_run ? "dry-run"
                                              : selfballoon    ? "selfballoon"
                                                               : "directed"};
    if (last_heartbeat_) g.heartbeat_unix_seconds = static_cast<double>(last_heartbeat_);
  }
  return metrics::render_text({g}) + metrics_->render();
}

int Agent::run_once(std::ostream& out) {
  ensure_xenstore();
  Readings r = read_inputs();
  PolicyInputs in = policy_inputs(r);
  auto show = [&](const char* name, const std::optional<std::uint64_t>& v, const char* unit) {
    out << "  " << name << ": " << (v ? std::to_string(*v) + unit : std::string("(unknown)"))
        << "\n";
  };
  out << "inputs:\n";
  show("Committed_AS", in.committed_as_kib, " KiB");
  show("MemTotal", in.memtotal_kib, " KiB");
  show("balloon target_kb", in.balloon_target_kib, " KiB");
  show("balloon current_kb", in.balloon_current_kib, " KiB");
  show("memory/target", in.dom0_target_kib, " KiB");
  show("memory/static-max", in.static_max_kib, " KiB");
  out << "  PSI some avg10: "
      << (in.psi_some_avg10 ? std::to_string(*in.psi_some_avg10) + " %" : "(unavailable)") << "\n";
  show("pswpin", in.pswpin, "");
  show("pgmajfault", in.pgmajfault, "");
  Decision d = decide(in, policy_state_, settings_);
  out << "policy: " << to_string(settings_.kind)
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
    auto written = balloon_.set_target_kib(*d.target_kib);
    if (!written) {
      out << "action: failed: " << written.error().message << "\n";
      return 1;
    }
    out << "action: wrote target_kb " << *d.target_kib << "\n";
  }
  return 0;
}

int Agent::run() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  std::map<std::string, http::Handler> routes;
  routes["/metrics"] = [this] {
    return http::Response{200, "text/plain; version=0.0.4; charset=utf-8", render_metrics()};
  };
  routes["/healthz"] = [this] {
    auto [ok, text] = health();
    return http::Response{ok ? 200 : 503, "text/plain; charset=utf-8", text};
  };
  routes["/"] = [] { return http::Response{200, "text/html; charset=utf-8", kLanding}; };
  auto server = http::Server::start(config_.web.listen_address, std::move(routes));
  if (!server) {
    log::error(server.error().message);
    return 1;
  }
  server_ = std::move(*server);
  log::info(std::string("xenballoond ") + kVersion + " started: policy " +
            std::string(to_string(settings_.kind)) + ", metrics on " + config_.web.listen_address +
            (options_.dry_run ? ", dry run" : ""));

  ensure_xenstore();
  tick("start");
  publish();
  notify_service_manager("READY=1");

  // The watchdog is fed from the loop at half its interval, not from the ticks: dom0 may stretch
  // the tick interval (memory/interval) far beyond the unit's WatchdogSec.
  const std::optional<std::chrono::microseconds> watchdog = service_manager::watchdog_interval();
  auto next_watchdog = Clock::now();
  auto next_tick = Clock::now() + std::chrono::seconds(config_.interval_seconds);
  auto next_publish = Clock::now() + std::chrono::seconds(config_.publish_interval_seconds);
  while (!stopping_) {
    auto now = Clock::now();
    if (watchdog && now >= next_watchdog) {
      notify_service_manager("WATCHDOG=1");
      next_watchdog = now + std::chrono::duration_cast<Clock::duration>(*watchdog / 2);
    }
    auto wake = std::min(next_tick, next_publish);
    if (watchdog) wake = std::min(wake, next_watchdog);
    if (!xs_) wake = std::min(wake, std::max(next_reconnect_, now));
    int timeout_ms = static_cast<int>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()));
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {watcher_ ? watcher_->watch_fd() : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) {
      log::error(std::string("poll: ") + std::strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGHUP) reload_requested_ = true;
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) stopping_ = true;
      }
    }
    if (stopping_) break;
    if (reload_requested_) {
      reload_requested_ = false;
      reload_config();
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) handle_watch_events();
    if (!xs_) ensure_xenstore();
    now = Clock::now();
    if (pending_target_event_) {
      tick("memory/target changed");  // follow dom0 at once, not at the next interval
      next_tick = now + std::chrono::seconds(
                            effective_interval_seconds(config_.interval_seconds, overrides_));
    } else if (now >= next_tick) {
      tick("interval");
      next_tick = now + std::chrono::seconds(
                            effective_interval_seconds(config_.interval_seconds, overrides_));
    }
    if (now >= next_publish) {
      publish();
      next_publish = now + std::chrono::seconds(config_.publish_interval_seconds);
    }
  }
  notify_service_manager("STOPPING=1");
  log::info("stopping");
  restore_on_exit();
  http::Server::leave_running_until_exit(std::move(server_));
  return 0;
}

}  // namespace xenballoon::agent
