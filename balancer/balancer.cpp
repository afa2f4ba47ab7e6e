#include "balancer.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "guarded_target.h"
#include "xenballoon/config/reload.h"
#include "xenballoon/daemon/loop.h"
#include "xenballoon/daemon/signals.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/http/server.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/service_manager.h"
#include "xenballoon/version.h"

namespace xenballoon::balancer {
namespace {

using namespace std::chrono_literals;
using dom0::balance::GuestState;
using dom0::balance::Reason;

constexpr const char* kProgram = "xenballoon-balancer";
constexpr std::uint64_t kKibPerMib = 1024;

dom0::FeedOptions feed_options(const std::string& socket_path) {
  dom0::FeedOptions o;
  o.socket_path = socket_path;
  o.watch = true;
  return o;
}

double unix_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// "guest web (domid 3)".
std::string guest_text(const std::string& name, std::uint32_t domid) {
  return "guest " + (name.empty() ? std::string("(unnamed)") : name) + " (domid " +
         std::to_string(domid) + ")";
}

// A weight as written in the configuration: "1", "2.5".
std::string weight_text(double weight) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", weight);
  return text;
}

bool is_trouble(GuestState state) {
  return state == GuestState::kStuck || state == GuestState::kUncooperative;
}

}  // namespace

void CliOverrides::apply(BalancerConfig& config) const {
  if (listen_address) config.web.listen_address = *listen_address;
  if (pidfile) config.pidfile = *pidfile;
  if (log_level) config.log_level = *log_level;
}

Balancer::Balancer(BalancerConfig config, Options options)
    : config_(std::move(config)),
      options_(std::move(options)),
      settings_(policy_settings(config_)),
      progress_(progress_options(config_)),
      feed_(cache_, feed_options(options_.xenstore_socket)),
      started_(Clock::now()) {
  log::set_level(config_.log_level);
  std::string why;
  xenctrl_ = dom0::open_xenctrl_host_memory(&why);
  if (xenctrl_) {
    log::info("host memory from libxenctrl (xc_physinfo)");
  } else if (!options_.host_memory_file.empty()) {
    host_file_ = std::make_unique<dom0::FileHostMemory>(options_.host_memory_file);
    log::info("no hypervisor answers (" + why + "): host memory from the file " +
              options_.host_memory_file);
  } else {
    host_problem_ = "no host memory figures (" + why +
                    ") and no --host-memory-file: not balancing; /metrics is served and "
                    "/healthz answers 503";
    log::warning(host_problem_);
  }
  snapshot_.dry_run = dry_run();
  snapshot_.host_reserved_kib = settings_.host_reserve_kib;
  shared_host_problem_ = host_problem_;
  shared_interval_seconds_ = config_.interval_seconds;
}

Balancer::~Balancer() = default;

double Balancer::monotonic_seconds() const {
  return std::chrono::duration<double>(Clock::now() - started_).count();
}

std::optional<dom0::HostMemory> Balancer::read_host() {
  Result<dom0::HostMemory> memory = Error{};
  if (xenctrl_) {
    auto read = xenctrl_->read();
    memory = read ? Result<dom0::HostMemory>(*read) : Error{"xc_physinfo failed"};
  } else if (host_file_) {
    memory = host_file_->read_checked();
  } else {
    return std::nullopt;  // said once at start
  }
  if (!memory) {
    const std::string problem = "host memory unknown: " + memory.error().message;
    if (problem != host_problem_) log::warning(problem + "; not balancing until it is known");
    host_problem_ = problem;
    return std::nullopt;
  }
  if (!host_problem_.empty()) log::info("host memory known again: balancing");
  host_problem_.clear();
  return *memory;
}

Result<void> Balancer::ensure_writer() {
  if (writer_) return {};
  auto client = xenstore::Client::open(options_.xenstore_socket);
  if (!client) {
    if (client.error().message != writer_problem_) {
      log::warning("cannot connect to xenstore to set targets: " + client.error().message);
    }
    writer_problem_ = client.error().message;
    return client.error();
  }
  writer_ = std::move(*client);
  // the xenstore setter, used unless options_.target_setter is set (--target-setter libxl)
  setter_ = std::make_unique<dom0::XenstoreTargetSetter>(*writer_);
  writer_problem_.clear();
  return {};
}

void Balancer::drop_writer_on(const Error& error) {
  if (!xenstore::is_connection_error(error)) return;
  setter_.reset();
  writer_.reset();
}

Result<void> Balancer::set_target(std::uint32_t domid, const PlannedFrom& planned,
                                  std::uint64_t target_kib) {
  if (auto connected = ensure_writer(); !connected) return connected;
  // Domain ids are reused and targets move under a step: the domain and its target must still be
  // the ones this step planned from.
  auto written =
      set_target_if_unchanged(*writer_, options_.target_setter ? *options_.target_setter : *setter_,
                              domid, planned, target_kib);
  if (!written) drop_writer_on(written.error());
  return written;
}

void Balancer::step() {
  const auto started = Clock::now();
  const double now = monotonic_seconds();
  Snapshot next;
  {
    std::lock_guard lock(snapshot_mutex_);
    next = snapshot_;
  }
  next.dry_run = dry_run();
  next.host_reserved_kib = settings_.host_reserve_kib;
  next.xenstore_connected = feed_.status().connected;

  if (!feed_.status().connected || !feed_.status().synced) {
    if (!xenstore_down_logged_) log::warning("not connected to xenstore: not balancing");
    xenstore_down_logged_ = true;
    next.balancing = false;
    publish_snapshot(std::move(next));
    return;
  }
  if (xenstore_down_logged_) log::info("connected to xenstore");
  xenstore_down_logged_ = false;

  // Every domain as the cache has it; dom0 only for its memory/target.
  std::vector<dom0::GuestView> views;
  std::optional<std::uint64_t> dom0_target_kib;
  cache_.read([&](const auto& guests, const auto&) {
    for (const auto& [domid, record] : guests) {
      if (domid == 0) {
        dom0_target_kib = record.view().stats.dom0_target_kib;
      } else {
        views.push_back(record.view());
      }
    }
  });

  std::uint64_t dom0_kib = config_.host.dom0_mib * kKibPerMib;
  if (dom0_kib == 0 && dom0_target_kib) dom0_kib = *dom0_target_kib;
  if (dom0_kib == 0 && !dom0_unknown_logged_) {
    log::info(
        "dom0's memory is unknown (host.dom0_mib is 0 and domain 0 has no memory/target): the "
        "host total is counted as guest memory");
    dom0_unknown_logged_ = true;
  }
  next.dom0_kib = dom0_kib;

  std::vector<dom0::balance::GuestInput> inputs;
  inputs.reserve(views.size() + 1);
  if (dom0_kib != 0) {
    dom0::balance::GuestInput domain0;
    domain0.domid = 0;
    domain0.name = "Domain-0";
    domain0.target_kib = domain0.static_max_kib = dom0_kib;
    domain0.state = GuestState::kExcluded;
    domain0.settings.excluded = true;
    inputs.push_back(std::move(domain0));
  }
  std::vector<std::uint32_t> present;
  for (const dom0::GuestView& view : views) {
    present.push_back(view.domid);
    dom0::balance::GuestInput in;
    in.domid = view.domid;
    in.uuid = view.uuid;
    in.name = view.name;
    in.settings = guest_settings(config_, view.name, view.uuid);
    in.stats = view.stats;
    in.actual_kib = view.stats.current_kib;
    const auto& target = view.stats.dom0_target_kib;
    const auto& static_max = view.stats.static_max_kib;
    in.target_kib = target.value_or(view.stats.current_kib.value_or(0));
    in.static_max_kib = static_max.value_or(in.target_kib);
    std::string unmanaged;
    if (view.uuid.empty()) {
      unmanaged = "no uuid (vm) to check before a write";
    } else if (!target) {
      unmanaged = "no memory/target";
    } else if (!static_max) {
      unmanaged = "no memory/static-max";
    }
    const auto observed =
        progress_.observe(in.domid, in.uuid, in.target_kib, in.actual_kib, in.stats, now);
    in.rates = observed.rates;
    if (!unmanaged.empty() || in.settings.excluded) {
      in.settings.excluded = true;
      in.state = GuestState::kExcluded;
    } else if (in.settings.pinned) {
      in.state = GuestState::kPinned;
    } else {
      in.state = observed.state;
    }

    // Transitions are logged once.
    auto [it, is_new] = known_.try_emplace(view.domid);
    Known& known = it->second;
    if (!is_new && known.uuid != view.uuid) {
      known = Known{};
      is_new = true;
    }
    const std::string who = guest_text(view.name, view.domid);
    if (is_new) {
      log::info(who + " (uuid " + (view.uuid.empty() ? std::string("none") : view.uuid) +
                "): " + std::string(dom0::balance::to_string(in.state)) + ", weight " +
                weight_text(in.settings.weight));
    }
    if (is_new || known.state != in.state) {
      const std::string state(dom0::balance::to_string(in.state));
      if (in.state == GuestState::kStuck) {
        log::warning(who + " is stuck: no move toward its target of " +
                     std::to_string(in.target_kib) + " KiB for " +
                     std::to_string(config_.stuck_after_seconds) +
                     " s; its target is kept and what it holds is not counted on until it moves");
      } else if (in.state == GuestState::kUncooperative) {
        log::warning(who +
                     " is uncooperative: no balloon driver or agent answering (nothing says what "
                     "it holds, or it never followed a target); its target is kept");
      } else if (!is_new && is_trouble(known.state)) {
        log::info(who + " is " + state + " again (was " +
                  std::string(dom0::balance::to_string(known.state)) + ")");
      } else if (!is_new) {
        log::info(who + " is now " + state);
      }
    }
    if (unmanaged != known.unmanaged_reason && !unmanaged.empty()) {
      log::warning(who + " is not managed: " + unmanaged);
    }
    known.uuid = view.uuid;
    known.state = in.state;
    known.unmanaged_reason = unmanaged;
    inputs.push_back(std::move(in));
  }
  progress_.retain(present);
  for (auto it = known_.begin(); it != known_.end();) {
    if (!std::binary_search(present.begin(), present.end(), it->first)) {  // by domid
      log::info("domid " + std::to_string(it->first) + " is gone");
      it = known_.erase(it);
    } else {
      ++it;
    }
  }

  const std::optional<dom0::HostMemory> host = read_host();
  next.host = host;
  next.guests.clear();
  if (!host) {
    // No plan: the guests as they are.
    next.balancing = false;
    next.available_kib = next.unmet_kib = next.unreclaimable_kib = std::nullopt;
    for (const auto& in : inputs) {
      if (in.domid == 0) continue;
      next.guests.push_back(GuestRow{in.domid, in.name, in.uuid, std::nullopt, in.target_kib,
                                     dom0::balance::guest_need_kib(in, settings_),
                                     in.settings.weight, in.state});
    }
  } else {
    next.balancing = true;
    const dom0::balance::HostInput host_input{host->total_bytes / 1024, host->free_bytes / 1024};
    const double elapsed = last_plan_seconds_ ? now - *last_plan_seconds_
                                              : static_cast<double>(config_.interval_seconds);
    last_plan_seconds_ = now;
    const dom0::balance::Plan plan =
        dom0::balance::plan_step(host_input, inputs, settings_, elapsed);
    next.available_kib = plan.available_kib;
    next.unmet_kib = plan.unmet_kib;
    next.unreclaimable_kib = plan.unreclaimable_kib;

    // By domid (plan.guests are in the input's order, one per input).
    std::map<std::uint32_t,
             std::pair<const dom0::balance::GuestInput*, const dom0::balance::GuestPlan*>>
        by_domid;
    for (const auto& in : inputs) by_domid[in.domid].first = &in;
    for (const auto& gp : plan.guests) by_domid[gp.domid].second = &gp;
    auto input_of = [&](std::uint32_t domid) -> const dom0::balance::GuestInput* {
      auto it = by_domid.find(domid);
      return it == by_domid.end() ? nullptr : it->second.first;
    };
    auto plan_of = [&](std::uint32_t domid) -> const dom0::balance::GuestPlan* {
      auto it = by_domid.find(domid);
      return it == by_domid.end() ? nullptr : it->second.second;
    };

    std::map<std::uint32_t, std::uint64_t> applied;
    for (const dom0::balance::Action& action : plan.actions) {
      const dom0::balance::GuestInput* in = input_of(action.domid);
      const dom0::balance::GuestPlan* gp = plan_of(action.domid);
      if (!in || action.domid == 0 || in->settings.excluded || in->settings.pinned ||
          in->uuid.empty() || action.to_kib == action.from_kib) {
        continue;  // held guests keep their targets whatever a plan says
      }
      const std::string reason(dom0::balance::to_string(gp ? gp->reason : Reason::kUnchanged));
      const std::string change = std::to_string(action.from_kib) + " -> " +
                                 std::to_string(action.to_kib) + " KiB (" + reason + ")";
      const std::string who = guest_text(in->name, in->domid);
      if (next.dry_run) {
        Known& known = known_[in->domid];
        if (known.dry_run_logged != action.to_kib) {
          log::info("dry run: " + who + ": target would be " + change);
          known.dry_run_logged = action.to_kib;
        }
        continue;
      }
      auto written = set_target(in->domid, PlannedFrom{in->uuid, in->target_kib}, action.to_kib);
      if (!written) {
        ++next.write_errors;
        log::warning(who + ": target " + change + " not set: " + written.error().message);
        continue;
      }
      applied[in->domid] = action.to_kib;
      ++(action.to_kib > action.from_kib ? next.writes_up : next.writes_down);
      log::info(who + ": target " + change);
    }

    for (const auto& gp : plan.guests) {
      if (gp.domid == 0) continue;
      const dom0::balance::GuestInput* in = input_of(gp.domid);
      if (!in) continue;
      ++next.decisions[reason_index(gp.reason)];
      auto it = applied.find(gp.domid);
      next.guests.push_back(GuestRow{gp.domid, in->name, in->uuid, gp.target_kib,
                                     it != applied.end() ? it->second : in->target_kib, gp.need_kib,
                                     in->settings.weight, in->state});
    }
    std::sort(next.guests.begin(), next.guests.end(),
              [](const GuestRow& a, const GuestRow& b) { return a.domid < b.domid; });
    ++next.steps;
    next.last_step_unix_seconds = unix_now();
  }
  next.step_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  publish_snapshot(std::move(next));
}

void Balancer::publish_snapshot(Snapshot next) {
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(next);
  last_step_ = Clock::now();
  shared_host_problem_ = host_problem_;
  shared_interval_seconds_ = config_.interval_seconds;
}

void Balancer::apply_config() {
  log::set_level(config_.log_level);
  settings_ = policy_settings(config_);
}

void Balancer::reload_config() {
  if (server_) daemon::reload_web_config(*server_, options_.web_config_file);
  auto loaded = config::reload(
      options_.config_path, config_, &load_balancer_config,
      [this](auto& config) { options_.overrides.apply(config); },
      [](const auto& config) { return validate(config); });
  if (!loaded) {
    if (!options_.config_path.empty()) daemon::count_reload_error(daemon::ReloadFile::kConfig);
    return;
  }
  const bool was_dry_run = dry_run();
  const auto old_progress = progress_options(config_);
  config_ = std::move(*loaded);
  const auto new_progress = progress_options(config_);
  if (new_progress.stuck_after_seconds != old_progress.stuck_after_seconds ||
      new_progress.retry_after_seconds != old_progress.retry_after_seconds) {
    progress_ = dom0::balance::GuestProgress(new_progress);  // progress is measured afresh
  }
  apply_config();
  if (dry_run() != was_dry_run) {
    log::info(dry_run() ? "SIGHUP: dry run from now on: targets are computed, never set"
                        : "SIGHUP: dry run ended: targets are set from the next step");
    for (auto& [domid, known] : known_) known.dry_run_logged.reset();
  }
  {
    std::lock_guard lock(snapshot_mutex_);
    shared_interval_seconds_ = config_.interval_seconds;
  }
  log::info("SIGHUP: configuration reloaded from " + options_.config_path);
}

daemon::Health Balancer::health() {
  std::lock_guard lock(snapshot_mutex_);
  if (!feed_.status().connected) return {false, "not connected to xenstore\n"};
  if (!snapshot_.host) {
    return {false, shared_host_problem_.empty() ? std::string("host memory unknown\n")
                                                : shared_host_problem_ + "\n"};
  }
  if (!last_step_) return {false, "no step yet\n"};
  const auto age = Clock::now() - *last_step_;
  if (age > 3 * std::chrono::seconds(shared_interval_seconds_) + 2s) {
    return {false,
            "last step " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
                " s ago\n"};
  }
  return {};
}

std::string Balancer::render_metrics() {
  Snapshot copy;
  {
    std::lock_guard lock(snapshot_mutex_);
    copy = snapshot_;
  }
  copy.xenstore_connected = feed_.status().connected;
  std::string text = render(copy);
  daemon::append_reload_errors(text, metrics::kBalancerConfigReloadErrors);
  return text;
}

int Balancer::run() {
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
                              kProgram, "Moves host memory to the Xen guests that need it.",
                              [this] { return render_metrics(); }, [this] { return health(); }),
                          2, options_.web);
  if (!server) {
    log::error(server.error().message);
    return 1;
  }
  log::info(std::string(kProgram) + " " + kVersion + " started: a step every " +
            std::to_string(config_.interval_seconds) + " s, metrics on " +
            config_.web.listen_address + (options_.web.tls ? " (TLS)" : "") +
            (dry_run() ? ", dry run (targets are computed, never set)" : ""));
  if (auto sent = service_manager::notify("READY=1"); !sent) log::warning(sent.error().message);

  server_ = server->get();
  daemon::Loop loop(*signals);
  loop.on_reload([this] { reload_config(); });
  if (const auto watchdog = service_manager::watchdog_interval()) {
    loop.schedule_every(Clock::now(), std::chrono::duration_cast<Clock::duration>(*watchdog / 2),
                        [] { (void)service_manager::notify("WATCHDOG=1"); });
  }
  const daemon::Loop::Id watches = loop.add_fd(-1, nullptr);
  // Each pass lets the feed apply what its watches reported; a step is due every
  // interval_seconds (the first once the feed has read every domain).
  auto next_step = Clock::now();
  std::uint64_t interval = config_.interval_seconds;
  loop.before_poll([&] {
    feed_.step();
    if (interval != config_.interval_seconds) {  // reloaded
      interval = config_.interval_seconds;
      next_step = std::min(next_step, Clock::now() + std::chrono::seconds(interval));
    }
    const auto now = Clock::now();
    if (now >= next_step) {
      if (!feed_.status().synced) {
        step();  // says so once and exports that
        next_step = now + std::min<Clock::duration>(std::chrono::seconds(interval), 1s);
      } else {
        step();
        next_step = now + std::chrono::seconds(interval);
      }
    }
    loop.set_fd(watches, feed_.poll_fd());
    loop.wake_at(std::min(next_step, Clock::now() + feed_.poll_timeout()));
  });
  if (auto ran = loop.run(); !ran) log::error(ran.error().message);
  (void)service_manager::notify("STOPPING=1");
  log::info("stopping: every target is left as it is");
  server_ = nullptr;
  http::Server::leave_running_until_exit(std::move(*server));
  return 0;
}

}  // namespace xenballoon::balancer
