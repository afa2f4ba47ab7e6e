#include "run_command.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "balancer_config.h"
#include "banner.h"
#include "binaries.h"
#include "embedded_alert_rules.h"
#include "embedded_default_scenario.h"
#include "guest_agent_config.h"
#include "model_driver.h"
#include "probes.h"
#include "process_supervisor.h"
#include "prometheus_config.h"
#include "run_dir.h"
#include "state_file.h"
#include "toolstack.h"
#include "workload_command.h"
#include "xenballoon/daemon/loop.h"
#include "xenballoon/daemon/signals.h"
#include "xenballoon/sim/scenario.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"

namespace xenballoon::sim::host {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kLoopback = "127.0.0.1";
constexpr const char* kXenstoredProcess = "xenstored-lite";
constexpr const char* kExporterProcess = "xenballoon-exporter";
constexpr const char* kBalancerProcess = "xenballoon-balancer";
constexpr const char* kPrometheusProcess = "prometheus";
constexpr const char* kAlertmanagerProcess = "alertmanager";
// The order in which they stop (ProcessSpec::stop_stage).
constexpr int kStopFirst = 0;     // Prometheus
constexpr int kStopWithHost = 1;  // agents, exporter, Alertmanager
constexpr int kStopLast = 2;      // xenstored
// Prometheus and Alertmanager open their databases before they listen.
constexpr auto kServiceStartTimeout = 20s;
constexpr auto kDaemonStartTimeout = 10s;

std::string agent_process(const std::string& guest) {
  return "xenballoond-" + guest;
}

std::string address(std::uint16_t port) {
  return std::string(kLoopback) + ":" + std::to_string(port);
}

// A path as the user would type it from here: relative when below the working directory.
std::string display_path(const std::string& path) {
  std::error_code error;
  const fs::path relative = fs::relative(path, fs::current_path(error), error);
  if (error || relative.empty() || *relative.begin() == "..") return path;
  return relative.string();
}

Result<Scenario> load_run_scenario(const RunOptions& options) {
  auto scenario = options.scenario_path.empty()
                      ? parse_scenario(embedded::kDefaultScenario.text,
                                       "(built-in) " + std::string(embedded::kDefaultScenario.name))
                      : load_scenario(options.scenario_path);
  if (!scenario) return scenario.error();
  return with_seed(std::move(*scenario), options.seed);
}

// One run of the simulated host. Not thread-safe: everything happens on the calling thread.
class SimulatedHost {
 public:
  SimulatedHost(const RunOptions& options, Scenario scenario, HostPrograms programs,
                ModelDriver driver)
      : options_(options),
        scenario_(std::move(scenario)),
        programs_(std::move(programs)),
        run_dir_(options.run_dir),
        driver_(std::move(driver)) {}

  ~SimulatedHost() {
    if (timer_fd_ >= 0) ::close(timer_fd_);
  }

  Result<void> start();
  // `signals`: SIGINT, SIGTERM, SIGHUP (each stops the host) and SIGCHLD.
  int run(daemon::SignalSet& signals);
  void stop();

 private:
  std::uint32_t domid_of(std::size_t guest_index) const {
    return static_cast<std::uint32_t>(guest_index + 1);
  }
  std::uint16_t agent_port(std::size_t guest_index) const {
    return static_cast<std::uint16_t>(options_.base_port + 1 + guest_index);
  }
  std::string agent_url(std::size_t guest_index) const {
    return "http://" + address(agent_port(guest_index)) + "/metrics";
  }
  std::uint16_t balancer_port() const {
    return static_cast<std::uint16_t>(options_.base_port + 1 + driver_.guest_count());
  }

  Result<void> check_ports() const;
  Result<void> start_xenstore();
  Result<void> create_domains();
  Result<void> start_agents();
  Result<void> start_exporter();
  Result<void> write_host_memory() const;
  Result<void> start_balancer();
  Result<void> write_monitoring_configs() const;
  Result<void> start_monitoring();
  Result<void> wait_until_listening(const std::string& process, std::uint16_t port,
                                    Clock::duration timeout);
  Result<void> start_process(ProcessSpec spec);

  void follow_dom0_targets();
  // Returns false when a process the host cannot run without has died.
  bool check_children();
  void publish_state();
  void print_banner() const;

  const RunOptions& options_;
  Scenario scenario_;
  HostPrograms programs_;
  RunDir run_dir_;
  ModelDriver driver_;
  ProcessSupervisor supervisor_;
  std::unique_ptr<Toolstack> toolstack_;
  int timer_fd_ = -1;
  bool started_a_process_ = false;
  bool child_died_ = false;
};

Result<void> SimulatedHost::check_ports() const {
  std::vector<std::pair<std::string, std::uint16_t>> wanted = {
      {kExporterProcess, options_.base_port}};
  for (std::size_t i = 0; i < driver_.guest_count(); ++i) {
    wanted.emplace_back(agent_process(driver_.guest(i).spec().name), agent_port(i));
  }
  if (options_.with_balancer) wanted.emplace_back(kBalancerProcess, balancer_port());
  if (options_.with_prometheus) {
    wanted.emplace_back(kPrometheusProcess, options_.prometheus_port);
    wanted.emplace_back(kAlertmanagerProcess, options_.alertmanager_port);
  }
  std::string problems;
  for (const auto& [who, port] : wanted) {
    if (!loopback_port_is_free(port)) {
      problems += (problems.empty() ? "" : "\n") + std::string("port ") + std::to_string(port) +
                  " (for " + who + ") is in use on " + kLoopback;
    }
  }
  if (!problems.empty()) {
    return Error{problems +
                 "\nanother xenballoon-sim or Prometheus may be running; choose other ports with "
                 "--base-port, --prometheus-port, --alertmanager-port"};
  }
  return {};
}

Result<void> SimulatedHost::start_process(ProcessSpec spec) {
  auto started = supervisor_.start(spec);
  if (!started) return started.error();
  started_a_process_ = true;
  log::debug("started " + spec.name + " (pid " + std::to_string(*started) + ")");
  return {};
}

Result<void> SimulatedHost::wait_until_listening(const std::string& process, std::uint16_t port,
                                                 Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!loopback_port_accepts(port)) {
    for (const ExitedProcess& exited : supervisor_.reap()) {
      return Error{exited.name + " " + exited.how + " while starting; see " +
                   run_dir_.log_path(exited.name)};
    }
    if (Clock::now() >= deadline) {
      return Error{
          process + " does not listen on " + address(port) + " after " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
          " s; see " + run_dir_.log_path(process)};
    }
    std::this_thread::sleep_for(20ms);
  }
  return {};
}

Result<void> SimulatedHost::start_xenstore() {
  // A Unix socket path has room for 107 bytes; the guests' sockets are the longest.
  const std::string longest =
      run_dir_.domain_socket(static_cast<std::uint32_t>(driver_.guest_count()));
  if (longest.size() >= sizeof(sockaddr_un::sun_path)) {
    return Error{"the run directory's path is too long for xenstore's sockets (" + longest +
                 "); choose a shorter --rundir"};
  }
  if (auto r = start_process({kXenstoredProcess,
                              {programs_.xenstored, "--rundir", run_dir_.xenstore_dir(), "--dump",
                               run_dir_.xenstore_dump()},
                              {},
                              run_dir_.log_path(kXenstoredProcess),
                              kStopLast});
      !r) {
    return r;
  }
  const auto deadline = Clock::now() + kDaemonStartTimeout;
  while (!unix_socket_accepts(run_dir_.dom0_socket())) {
    if (!supervisor_.reap().empty() || Clock::now() >= deadline) {
      return Error{"xenstored-lite did not start; see " + run_dir_.log_path(kXenstoredProcess)};
    }
    std::this_thread::sleep_for(10ms);
  }
  auto toolstack = Toolstack::connect(run_dir_.dom0_socket());
  if (!toolstack) return toolstack.error();
  toolstack_ = std::move(*toolstack);
  return toolstack_->create_dom0();
}

Result<void> SimulatedHost::create_domains() {
  for (std::size_t i = 0; i < driver_.guest_count(); ++i) {
    const GuestModel& guest = driver_.guest(i);
    const DomainSpec domain{domid_of(i), guest.spec().name,
                            domain_uuid(scenario_.name, guest.spec().name), guest.static_max_kib(),
                            guest.dom0_target_kib()};
    if (auto r = toolstack_->create_domain(domain); !r) {
      return Error{"creating domain " + domain.name + ": " + r.error().message};
    }
    if (auto r = toolstack_->watch_dom0_target(domain.domid); !r) return r;
  }
  const auto deadline = Clock::now() + kDaemonStartTimeout;
  for (std::size_t i = 0; i < driver_.guest_count(); ++i) {
    while (!unix_socket_accepts(run_dir_.domain_socket(domid_of(i)))) {
      if (Clock::now() >= deadline) {
        return Error{"xenstored-lite made no socket for domain " + std::to_string(domid_of(i)) +
                     "; see " + run_dir_.log_path(kXenstoredProcess)};
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  return driver_.write_boot_trees();
}

Result<void> SimulatedHost::start_agents() {
  for (std::size_t i = 0; i < driver_.guest_count(); ++i) {
    const std::string& guest = driver_.guest(i).spec().name;
    const GuestAgentSetup setup{guest,
                                domid_of(i),
                                address(agent_port(i)),
                                run_dir_.guest_root(guest) + "/proc",
                                run_dir_.guest_root(guest) + "/sys",
                                run_dir_.agent_pidfile(guest)};
    if (auto r = write_file_atomic(run_dir_.agent_config(guest), render_guest_agent_config(setup));
        !r) {
      return r;
    }
    if (auto r = start_process({agent_process(guest),
                                {programs_.agent, "--config", run_dir_.agent_config(guest)},
                                {{"XENSTORED_PATH", run_dir_.domain_socket(domid_of(i))}},
                                run_dir_.log_path(agent_process(guest)),
                                kStopWithHost});
        !r) {
      return r;
    }
  }
  for (std::size_t i = 0; i < driver_.guest_count(); ++i) {
    if (auto r = wait_until_listening(agent_process(driver_.guest(i).spec().name), agent_port(i),
                                      kDaemonStartTimeout);
        !r) {
      return r;
    }
  }
  return {};
}

Result<void> SimulatedHost::start_exporter() {
  if (auto r =
          start_process({kExporterProcess,
                         {programs_.exporter, "--web.listen-address", address(options_.base_port),
                          "--log.level", "info", "--host-memory-file", run_dir_.host_memory_file()},
                         {{"XENSTORED_PATH", run_dir_.dom0_socket()}},
                         run_dir_.log_path(kExporterProcess),
                         kStopWithHost});
      !r) {
    return r;
  }
  return wait_until_listening(kExporterProcess, options_.base_port, kDaemonStartTimeout);
}

Result<void> SimulatedHost::write_host_memory() const {
  return write_file_atomic(run_dir_.host_memory_file(),
                           render_host_memory(driver_.host_total_kib(), driver_.host_free_kib()));
}

Result<void> SimulatedHost::start_balancer() {
  if (!options_.with_balancer) return {};
  std::error_code error;
  fs::create_directories(run_dir_.balancer_dir(), error);
  if (error) return Error{"cannot create " + run_dir_.balancer_dir() + ": " + error.message()};
  BalancerSetup setup;
  setup.listen_address = address(balancer_port());
  setup.pidfile = run_dir_.balancer_pidfile();
  if (auto r = write_file_atomic(run_dir_.balancer_config(), render_balancer_config(setup)); !r) {
    return r;
  }
  if (auto r = start_process({kBalancerProcess,
                              {programs_.balancer, "--config", run_dir_.balancer_config(),
                               "--host-memory-file", run_dir_.host_memory_file()},
                              {{"XENSTORED_PATH", run_dir_.dom0_socket()}},
                              run_dir_.log_path(kBalancerProcess),
                              kStopWithHost});
      !r) {
    return r;
  }
  return wait_until_listening(kBalancerProcess, balancer_port(), kDaemonStartTimeout);
}

Result<void> SimulatedHost::write_monitoring_configs() const {
  std::error_code error;
  fs::create_directories(run_dir_.prometheus_rules_dir(), error);
  if (!error) fs::create_directories(run_dir_.prometheus_data(), error);
  if (!error) fs::create_directories(run_dir_.alertmanager_data(), error);
  if (error) return Error{"cannot create Prometheus' directories: " + error.message()};
  PrometheusSetup setup;
  setup.exporter_address = address(options_.base_port);
  if (options_.with_balancer) setup.balancer_address = address(balancer_port());
  setup.alertmanager_address = address(options_.alertmanager_port);
  for (std::size_t i = 0; i < driver_.guest_count(); ++i) {
    const std::string& name = driver_.guest(i).spec().name;
    setup.agents.push_back({address(agent_port(i)), name, std::to_string(domid_of(i)),
                            domain_uuid(scenario_.name, name)});
  }
  for (const embedded::EmbeddedFile& rules : embedded::kAlertRules) {
    const std::string name(rules.name);
    if (auto r = write_file_atomic(run_dir_.prometheus_rules_dir() + "/" + name,
                                   std::string(rules.text));
        !r) {
      return r;
    }
    setup.rule_files.push_back("rules/" + name);
  }
  if (auto r = write_file_atomic(run_dir_.prometheus_config(), render_prometheus_config(setup));
      !r) {
    return r;
  }
  return write_file_atomic(run_dir_.alertmanager_config(), render_alertmanager_config());
}

Result<void> SimulatedHost::start_monitoring() {
  // Written even without --prometheus, so that they can be checked or run by hand.
  if (auto r = write_monitoring_configs(); !r) return r;
  if (!options_.with_prometheus) return {};
  if (auto r =
          start_process({kAlertmanagerProcess,
                         {programs_.alertmanager, "--config.file=" + run_dir_.alertmanager_config(),
                          "--storage.path=" + run_dir_.alertmanager_data(),
                          "--web.listen-address=" + address(options_.alertmanager_port),
                          // Empty: no cluster (no gossip port, no peers).
                          "--cluster.listen-address="},
                         {},
                         run_dir_.log_path(kAlertmanagerProcess),
                         kStopWithHost});
      !r) {
    return r;
  }
  if (auto r = start_process(
          {kPrometheusProcess,
           {programs_.prometheus, "--config.file=" + run_dir_.prometheus_config(),
            "--storage.tsdb.path=" + run_dir_.prometheus_data(), "--storage.tsdb.retention.time=2d",
            "--web.listen-address=" + address(options_.prometheus_port)},
           {},
           run_dir_.log_path(kPrometheusProcess),
           kStopFirst});
      !r) {
    return r;
  }
  if (auto r = wait_until_listening(kAlertmanagerProcess, options_.alertmanager_port,
                                    kServiceStartTimeout);
      !r) {
    return r;
  }
  return wait_until_listening(kPrometheusProcess, options_.prometheus_port, kServiceStartTimeout);
}

Result<void> SimulatedHost::start() {
  if (auto r = check_ports(); !r) return r;
  if (auto r = run_dir_.prepare_fresh(); !r) return r;
  log::info("scenario " + scenario_.name + ": " + std::to_string(driver_.guest_count()) +
            " guests on a " + std::to_string(scenario_.host.memory_mib) +
            " MiB host; run directory " + run_dir_.root());
  if (auto r = start_xenstore(); !r) return r;
  if (auto r = create_domains(); !r) return r;
  if (auto r = start_agents(); !r) return r;
  if (auto r = write_host_memory(); !r) return r;
  if (auto r = start_exporter(); !r) return r;
  if (auto r = start_balancer(); !r) return r;
  if (auto r = start_monitoring(); !r) return r;

  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) return Error{std::string("timerfd_create: ") + std::strerror(errno), errno};
  const auto step_ns = static_cast<long long>(std::llround(1e9 / options_.speed));
  itimerspec interval{};
  interval.it_interval.tv_sec = step_ns / 1'000'000'000;
  interval.it_interval.tv_nsec = step_ns % 1'000'000'000;
  interval.it_value = interval.it_interval;
  if (::timerfd_settime(timer_fd_, 0, &interval, nullptr) != 0) {
    return Error{std::string("timerfd_settime: ") + std::strerror(errno), errno};
  }
  publish_state();
  print_banner();
  return {};
}

void SimulatedHost::follow_dom0_targets() {
  for (const Dom0TargetWrite& write : toolstack_->take_dom0_target_writes()) {
    if (write.domid == 0 || write.domid > driver_.guest_count()) continue;
    const std::size_t index = write.domid - 1;
    const GuestModel& guest = driver_.guest(index);
    if (write.registration_event && write.target_kib == guest.dom0_target_kib()) continue;
    log::info(guest.spec().name + ": memory/target " + std::to_string(write.target_kib) +
              " KiB; Xen's max_pages and the balloon driver follow");
    if (auto r = driver_.follow_dom0_target(index, write.target_kib); !r) {
      log::warning(guest.spec().name + ": " + r.error().message);
    }
  }
}

bool SimulatedHost::check_children() {
  bool essential_alive = true;
  for (const ExitedProcess& exited : supervisor_.reap()) {
    log::error(exited.name + " (pid " + std::to_string(exited.pid) + ") " + exited.how + "; see " +
               run_dir_.log_path(exited.name));
    child_died_ = true;
    if (exited.name == kXenstoredProcess) essential_alive = false;
  }
  return essential_alive;
}

void SimulatedHost::publish_state() {
  SimState state;
  state.pid = ::getpid();
  state.model_seconds = driver_.now_seconds();
  state.dom0_socket = run_dir_.dom0_socket();
  state.urls.emplace_back("exporter", "http://" + address(options_.base_port) + "/metrics");
  if (options_.with_balancer) {
    state.urls.emplace_back("balancer", "http://" + address(balancer_port()) + "/metrics");
  }
  if (options_.with_prometheus) {
    state.urls.emplace_back("prometheus", "http://" + address(options_.prometheus_port));
    state.urls.emplace_back("alertmanager", "http://" + address(options_.alertmanager_port));
  }
  const std::vector<GuestAllocation> allocations = driver_.allocations();
  for (std::size_t i = 0; i < allocations.size(); ++i) {
    state.domains.push_back(DomainState{domid_of(i), allocations[i].name,
                                        allocations[i].current_kib, allocations[i].max_pages_kib,
                                        agent_url(i)});
  }
  state.processes = supervisor_.running();
  if (auto r = write_state_file(run_dir_.state_file(), state); !r) {
    log::warning("cannot write the state file: " + r.error().message);
  }
}

void SimulatedHost::print_banner() const {
  HostBanner banner;
  banner.scenario_name = scenario_.name;
  banner.host_memory_mib = scenario_.host.memory_mib;
  banner.speed = options_.speed;
  banner.run_dir = run_dir_.root();
  banner.exporter_url = "http://" + address(options_.base_port) + "/metrics";
  if (options_.with_balancer) {
    banner.balancer_url = "http://" + address(balancer_port()) + "/metrics";
  }
  for (std::size_t i = 0; i < driver_.guest_count(); ++i) {
    banner.agents.push_back({driver_.guest(i).spec().name, domid_of(i), agent_url(i)});
  }
  if (options_.with_prometheus) {
    banner.prometheus_url = "http://" + address(options_.prometheus_port);
    banner.alertmanager_url = "http://" + address(options_.alertmanager_port);
  }
  banner.sim_command = display_path(own_directory() + "/xenballoon-sim");
  if (RunDir(default_run_dir()).root() != run_dir_.root()) {
    banner.rundir_flag = " --rundir " + run_dir_.root();
  }
  banner.monitor_command =
      programs_.monitor.empty() ? "xenballoon-monitor" : display_path(programs_.monitor);
  banner.dom0_socket = run_dir_.dom0_socket();
  std::fputs(render_banner(banner).c_str(), stdout);
  std::fflush(stdout);
}

int SimulatedHost::run(daemon::SignalSet& signals) {
  daemon::Loop loop(signals);
  loop.set_stop_signals({SIGINT, SIGTERM, SIGHUP});
  bool healthy = true;
  if (options_.duration_seconds) {
    loop.schedule(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(*options_.duration_seconds)),
                  [&] { loop.stop(); });
  }
  loop.on_signals([&](const std::vector<int>& received) {
    for (int signal_number : received) {
      if (signal_number != SIGCHLD) {
        log::info(std::string("SIG") + sigabbrev_np(signal_number) + ": stopping");
      }
    }
    if (!check_children()) {
      log::error("xenstore is gone; stopping");
      healthy = false;
      loop.stop();
    }
  });
  loop.add_fd(toolstack_->watch_fd(), [&](short revents) {
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
      log::error("lost the connection to xenstore; stopping");
      healthy = false;
      loop.stop();
    } else if (revents & POLLIN) {
      follow_dom0_targets();
    }
  });
  loop.add_fd(timer_fd_, [&](short) {
    std::uint64_t expirations = 0;
    if (::read(timer_fd_, &expirations, sizeof expirations) == sizeof expirations) {
      // Catch up after a stall (a suspended terminal, a slow disk), but boundedly: the agents
      // live in wall-clock time and gain nothing from a burst of model seconds.
      constexpr std::uint64_t kMaxCatchUpSteps = 10;
      take_workload_requests(run_dir_, driver_);
      for (std::uint64_t i = 0; i < std::min(expirations, kMaxCatchUpSteps); ++i) driver_.step();
      if (auto r = write_host_memory(); !r) log::warning(r.error().message);
      publish_state();
    }
  });
  if (auto ran = loop.run(); !ran) {
    log::error(ran.error().message);
    healthy = false;
  }
  stop();
  return healthy && !child_died_ ? 0 : 1;
}

void SimulatedHost::stop() {
  if (!started_a_process_) return;
  std::error_code ignored;
  fs::remove(run_dir_.state_file(), ignored);
  for (const std::string& name : supervisor_.stop_all()) {
    log::warning(name + " did not stop on SIGTERM and was killed");
  }
  log::info("stopped; logs are in " + run_dir_.logs_dir());
}

}  // namespace

int run_host(const RunOptions& options) {
  // Blocked from the start, so that the threads libxenstore creates inherit the mask.
  auto signals = daemon::SignalSet::open({SIGHUP, SIGCHLD});
  if (!signals) {
    log::error(signals.error().message);
    return 1;
  }
  auto scenario = load_run_scenario(options);
  if (!scenario) {
    log::error("invalid scenario:\n" + scenario.error().message);
    return 1;
  }
  auto programs = find_host_programs(options);
  if (!programs) {
    log::error(programs.error().message);
    return 1;
  }
  if (auto running = read_running_state(RunDir(options.run_dir).state_file())) {
    log::error("xenballoon-sim is already running with run directory " + options.run_dir +
               " (pid " + std::to_string(running->pid) + "); stop it or choose another --rundir");
    return 1;
  }
  if (options.base_port + scenario->guests.size() > 65535) {
    log::error("--base-port: no room for " + std::to_string(scenario->guests.size()) +
               " agent ports above " + std::to_string(options.base_port));
    return 1;
  }
  auto driver = ModelDriver::create(*scenario, RunDir(options.run_dir).guests_dir());
  if (!driver) {
    log::error("cannot boot the scenario: " + driver.error().message);
    return 1;
  }
  SimulatedHost host(options, std::move(*scenario), std::move(*programs), std::move(*driver));
  if (auto started = host.start(); !started) {
    log::error(started.error().message);
    host.stop();
    return 1;
  }
  return host.run(*signals);
}

}  // namespace xenballoon::sim::host
