// Fault injection against the real xenballoond: balloon writes failing (EIO, EINVAL, EBUSY, a
// read-only file, the file vanishing and coming back) through the LD_PRELOAD fault library,
// /proc files missing, empty, cut short, garbage or enormous in the fixture tree, the wall clock
// jumping an hour either way, the pidfile's directory unwritable, the metrics port taken and the
// guest's xenstore connection cut mid-transaction. In every case: the agent keeps running (or
// refuses to start with one line), says so once, counts it on /metrics, and every value that
// reaches target_kb is within [floor, min(memory/target, static-max)] (the fault library records
// every write). docs/reliability.md lists each fault and its test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fault_control.h"
#include "guest_env.h"
#include "http_get.h"
#include "sim_host.h"  // slurp, spit
#include "xs_proxy.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The fixture guest (tests/fixtures/real-xen-4.17): static-max 512 MiB, floor 168 MiB.
constexpr std::uint64_t kStaticMaxKib = 524288;
constexpr std::uint64_t kFloorKib = 172032;
constexpr std::uint64_t kDom0TargetKib = 262144;

const char* kDirected = "selfballoon: false\ninterval_seconds: 1\npublish_interval_seconds: 5\n";
// classic jumps to max(Committed_AS, floor) = the floor (Committed_AS is 5 MiB).
const char* kClassic =
    "policy: classic\ninterval_seconds: 1\npublish_interval_seconds: 5\n"
    "downhysteresis: 0\n";

std::string target_kb_path(const GuestEnv& env) {
  return env.sysfs() + "/devices/system/xen_memory/xen_memory0/target_kb";
}

// Lines of `text` that contain `needle`.
std::size_t count_lines(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string line;
  std::size_t count = 0;
  while (std::getline(in, line)) count += line.find(needle) != std::string::npos ? 1 : 0;
  return count;
}

double metric_or_zero(GuestEnv& env, const std::string& series) {
  return env.metric(series).value_or(0);
}

double ticks(GuestEnv& env) {
  return metric_or_zero(env, "xenballoon_tick_duration_seconds_count");
}

// Moves memory/target, which makes the agent tick at once, and waits for that tick.
void tick_by_target(GuestEnv& env, std::uint64_t kib) {
  const double before = ticks(env);
  REQUIRE(env.dom0().write(env.home() + "/memory/target", std::to_string(kib)) == 0);
  REQUIRE(GuestEnv::wait_until([&] { return ticks(env) > before; }, 3s));
}

// Every value the agent wrote (or tried to write) to target_kb keeps the bound for one of the
// memory/target values in force during the test: whole pages, at most min(memory/target,
// static-max), at least the floor unless dom0's target is below it.
void check_every_write_in_bounds(const FaultControl& faults,
                                 const std::vector<std::uint64_t>& dom0_targets) {
  for (const RecordedWrite& w : faults.recorded()) {
    const std::uint64_t kib = std::stoull(w.data);
    const bool fits = std::any_of(dom0_targets.begin(), dom0_targets.end(), [&](auto t) {
      const std::uint64_t ceiling = std::min(t, kStaticMaxKib);
      return kib % 4 == 0 && kib <= ceiling && kib >= std::min(kFloorKib, ceiling / 4 * 4);
    });
    INFO("target_kb write " << w.data << " (" << w.result << ")");
    CHECK(fits);
  }
}

// The balancer's configuration for these tests (a step a second) in `dir`; returns its path.
std::string write_balancer_config(const TempDir& dir, std::uint16_t port) {
  const std::string path = dir.path() + "/balancer.yaml";
  std::ofstream(path) << "interval_seconds: 1\nstuck_after_seconds: 30\nretry_after_seconds: 1\n"
                         "host:\n  reserve_mib: 256\n  dom0_mib: 512\nweb:\n"
                         "  listen_address: \"127.0.0.1:"
                      << port << "\"\npidfile: " << dir.path()
                      << "/balancer.pid\nlog_level: debug\n";
  return path;
}

// The guest kernel's side of the balloon, on its own thread: each target_kb is reached at once
// (info/current_kb) and MemTotal follows it, `overhead_kib` below. Stopped by the destructor.
class KernelBalloon {
 public:
  KernelBalloon(GuestEnv& env, std::uint64_t overhead_kib)
      : env_(env), overhead_kib_(overhead_kib) {
    sync(true);
    thread_ = std::thread([this] { run(); });
  }
  ~KernelBalloon() {
    running_ = false;
    thread_.join();
  }
  // The test's edits of /proc/meminfo, kept apart from the kernel's.
  void set_meminfo_field(const std::string& field, std::uint64_t kib) {
    std::lock_guard lock(mutex_);
    env_.set_meminfo_field(field, kib);
  }

 private:
  void sync(bool always) {
    const std::string current =
        env_.sysfs() + "/devices/system/xen_memory/xen_memory0/info/current_kb";
    const auto target = env_.target_kb();
    if (!target || (!always && slurp(current) == std::to_string(*target) + "\n")) return;
    std::lock_guard lock(mutex_);
    env_.set_meminfo_field("MemTotal", *target - overhead_kib_);
    spit(current, std::to_string(*target) + "\n");
  }
  void run() {
    while (running_) {
      sync(false);
      std::this_thread::sleep_for(10ms);
    }
  }
  GuestEnv& env_;
  const std::uint64_t overhead_kib_;
  std::mutex mutex_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

}  // namespace

TEST_CASE("failing balloon writes are counted, said once each, and never go out of bounds") {
  GuestEnv env(kDirected);
  FaultControl faults;
  const std::string target_kb = target_kb_path(env);
  faults.record(target_kb);
  env.start_agent({}, true, faults.env());
  REQUIRE(env.agent().running());

  std::vector<std::uint64_t> dom0_targets{kDom0TargetKib};
  std::uint64_t next = 200000;
  auto move = [&](std::uint64_t kib) {
    dom0_targets.push_back(kib);
    tick_by_target(env, kib);
  };
  auto errors = [&](const std::string& name) {
    return metric_or_zero(env, "xenballoon_balloon_write_errors_total{error=\"" + name + "\"}");
  };
  // Eight ticks under each errno, among them targets above static-max and below the floor.
  const std::uint64_t sizes[] = {200000, 600000, 100000, 300000, 250000, 180000, 400000, 220000};
  for (const auto& [name, text] :
       {std::pair{"EIO", "Input/output error"}, std::pair{"EINVAL", "Invalid argument"},
        std::pair{"EBUSY", "Device or resource busy"}}) {
    faults.set({std::string("fail write ") + name + " " + target_kb});
    const double before = errors(name);
    for (std::uint64_t kib : sizes) move(kib + (next += 4) % 64);
    CHECK(errors(name) == before + 8);
    CHECK(count_lines(env.agent_log(), text) == 1);
    CHECK(env.agent().running());
  }
  CHECK(env.target_kb() == kDom0TargetKib);  // nothing got through

  faults.set({});
  move(230000);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 230000u; }, 2s));
  CHECK(count_lines(env.agent_log(), "balloon target written again") == 1);

  // A read-only target_kb: chmod, and (as root, whom chmod does not stop) EACCES on opening it
  // for writing, as sysfs gives for an attribute without a store method.
  ::chmod(target_kb.c_str(), 0444);
  if (::geteuid() == 0) faults.set({"fail open-write EACCES " + target_kb});
  {
    const double before = errors("EACCES");
    for (std::uint64_t kib : sizes) move(kib + (next += 4) % 64);
    CHECK(errors("EACCES") == before + 8);
    CHECK(count_lines(env.agent_log(), "Permission denied") == 1);
  }
  ::chmod(target_kb.c_str(), 0644);
  faults.set({});
  move(240000);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 240000u; }, 2s));
  CHECK(count_lines(env.agent_log(), "balloon target written again") == 2);

  // target_kb vanishes (the driver unloaded) and comes back.
  fs::remove(target_kb);
  {
    const std::string series = "xenballoon_read_errors_total{error=\"ENOENT\",source=\"balloon\"}";
    const double before = metric_or_zero(env, series);
    for (std::uint64_t kib : sizes) move(kib + (next += 4) % 64);
    CHECK(metric_or_zero(env, series) >= before + 8);
    CHECK(count_lines(env.agent_log(), "cannot balloon: cannot open " + target_kb) == 1);
  }
  spit(target_kb, "240000\n");
  move(250000);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 250000u; }, 2s));
  CHECK(count_lines(env.agent_log(), "balloon reads again") == 1);

  CHECK(env.agent().running());
  // Every attempt was recorded: 3 x 8 failed writes and the successful ones.
  CHECK(faults.recorded().size() >= 24 + 3);
  check_every_write_in_bounds(faults, dom0_targets);
}

TEST_CASE("broken /proc files skip the tick, are counted, said once each, and write nothing") {
  GuestEnv env(kClassic);
  FaultControl faults;
  faults.record(target_kb_path(env));
  env.start_agent({}, true, faults.env());
  REQUIRE(GuestEnv::wait_until([&] { return env.target_kb() == kFloorKib; }, 8s));
  const std::string meminfo = env.procfs() + "/meminfo";
  const std::string good = slurp(meminfo);
  REQUIRE(good.size() > 200);

  std::string enormous = good;
  while (enormous.size() < (2u << 20)) enormous += good;
  std::mt19937 rng(14);
  std::string garbage(700, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  struct Phase {
    const char* what;
    const char* error;  // the read_errors_total label
    std::string content;
  };
  const std::vector<Phase> phases{
      {"missing", "ENOENT", ""},
      {"empty", "malformed", ""},
      {"cut mid-line", "malformed", good.substr(0, good.size() / 2 + 3)},
      {"garbage", "malformed", garbage},
      {"enormous", "EFBIG", enormous}};
  std::uint64_t toggle = 0;
  auto drive = [&](int count) {
    for (int i = 0; i < count; ++i) tick_by_target(env, kDom0TargetKib - 4 * (++toggle % 2));
  };
  for (const Phase& phase : phases) {
    INFO("meminfo " << phase.what);
    if (std::string(phase.what) == "missing") {
      fs::remove(meminfo);
    } else if (std::string(phase.what) == "enormous") {
      // 100 MB: 2 MiB of real lines, then a sparse tail.
      spit(meminfo, phase.content);
      fs::resize_file(meminfo, 100u << 20);
    } else {
      spit(meminfo, phase.content);
    }
    const std::string series = std::string("xenballoon_read_errors_total{error=\"") + phase.error +
                               "\",source=\"meminfo\"}";
    const double before = metric_or_zero(env, series);
    const std::size_t log_before = count_lines(env.agent_log(), meminfo);
    const std::size_t writes_before = faults.recorded().size();
    drive(10);
    CHECK(metric_or_zero(env, series) >= before + 10);
    CHECK(count_lines(env.agent_log(), meminfo) == log_before + 1);
    CHECK(faults.recorded().size() == writes_before);  // every tick skipped
    spit(meminfo, good);
    drive(1);
  }
  CHECK(count_lines(env.agent_log(), "meminfo reads again") == phases.size());
  CHECK(count_lines(env.agent_log(), "no balloon target this tick") == phases.size());

  // vmstat gone and pressure/memory garbage: counted and said once; shrinks are held meanwhile.
  const std::string vmstat = env.procfs() + "/vmstat";
  const std::string vmstat_good = slurp(vmstat);
  fs::remove(vmstat);
  spit(env.procfs() + "/pressure/memory", garbage);
  drive(10);
  CHECK(metric_or_zero(env, "xenballoon_read_errors_total{error=\"ENOENT\",source=\"vmstat\"}") >=
        10);
  CHECK(metric_or_zero(
            env, "xenballoon_read_errors_total{error=\"malformed\",source=\"pressure\"}") >= 10);
  CHECK(count_lines(env.agent_log(), vmstat) == 1);
  CHECK(count_lines(env.agent_log(), env.procfs() + "/pressure/memory") == 1);
  spit(vmstat, vmstat_good);
  CHECK(env.agent().running());
  check_every_write_in_bounds(faults, {kDom0TargetKib, kDom0TargetKib - 4});
}

TEST_CASE("a wall clock jump of an hour either way changes neither tick spacing nor hysteresis") {
  // classic, a quarter of the gap down a tick, the balloon following: one write a tick, each
  // timed on the monotonic clock by the fault library while the agent's wall clock jumps.
  GuestEnv env(
      "policy: classic\ninterval_seconds: 1\npublish_interval_seconds: 5\n"
      "downhysteresis: 4\n");
  FaultControl faults;
  faults.record(target_kb_path(env));
  KernelBalloon kernel(env, 0);
  env.start_agent({}, true, faults.env());
  auto writes = [&](std::size_t count) {
    return GuestEnv::wait_until([&] { return faults.recorded().size() >= count; }, 4s);
  };
  REQUIRE(writes(2));
  faults.set({"clock 3600"});  // an hour forwards
  REQUIRE(writes(4));
  faults.set({"clock -3600"});  // two hours back
  REQUIRE(writes(6));
  const std::vector<RecordedWrite> seen = faults.recorded();
  // Committed_AS (5 MiB) is below the floor: the goal is the floor.
  std::uint64_t level = kDom0TargetKib;
  for (std::size_t i = 0; i < 6; ++i) {
    INFO("write " << i << ": " << seen[i].data);
    const std::uint64_t bytes = level * 1024 - (level * 1024 - kFloorKib * 1024) / 4;
    CHECK(std::stoull(seen[i].data) == bytes / 1024 / 4 * 4);
    if (i > 0) {
      const double spacing =
          static_cast<double>(seen[i].monotonic_ns - seen[i - 1].monotonic_ns) / 1e9;
      // A wall-clock interval would tick at once after the jump forwards and not for an hour
      // after the one backwards; the slack is for a loaded machine.
      CHECK(spacing >= 0.6);
      CHECK(spacing <= 1.6);
    }
    level = std::stoull(seen[i].data);
  }
  CHECK(env.agent().running());
  check_every_write_in_bounds(faults, {kDom0TargetKib});
}

TEST_CASE("an unwritable pidfile directory or a taken metrics port refuse the start in one line") {
  GuestEnv env(kDirected);
  FaultControl faults;
  const std::string target_before = slurp(target_kb_path(env));

  // The pidfile's directory is not writable (as root, whom chmod does not stop, the fault
  // library refuses the pidfile's creation with EACCES).
  const std::string locked = env.root() + "/locked";
  fs::create_directory(locked);
  ::chmod(locked.c_str(), 0555);
  const std::string pidfile = locked + "/xenballoond.pid";
  faults.set({"fail open EACCES " + pidfile});
  auto env_vars = faults.env();
  env_vars.emplace("XENSTORED_PATH", env.xenstored().domain_socket(GuestEnv::kDomid));
  const std::uint16_t port = free_port();
  auto refused = run_command({xenballoond_binary(), "--config", env.config_path(), "--path.procfs",
                              env.procfs(), "--path.sysfs", env.sysfs(), "--web.listen-address",
                              "127.0.0.1:" + std::to_string(port), "--pidfile", pidfile},
                             env_vars, 10s);
  CHECK(refused.exit_code == 1);
  CHECK(count_lines(refused.err, "cannot open pidfile " + pidfile + ": Permission denied") == 1);
  CHECK(count_lines(refused.err, "") == 1);
  CHECK_FALSE(fs::exists(pidfile));

  // The metrics port is taken by another process's socket.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(holder, 1) == 0);
  auto taken = run_command({xenballoond_binary(), "--config", env.config_path(), "--path.procfs",
                            env.procfs(), "--path.sysfs", env.sysfs(), "--web.listen-address",
                            "127.0.0.1:" + std::to_string(port), "--pidfile", env.pidfile()},
                           env_vars, 10s);
  CHECK(taken.exit_code == 1);
  CHECK(count_lines(taken.err, "cannot listen on 127.0.0.1:" + std::to_string(port)) == 1);
  CHECK(count_lines(taken.err, "error") == 1);
  CHECK_FALSE(fs::exists(env.pidfile()));

  // The balancer likewise: its configuration listens on the taken port.
  TempDir dir;
  const std::string config = write_balancer_config(dir, port);
  auto balancer_env = faults.env();
  for (const auto& [name, value] : env.xenstored().env_for(0)) balancer_env[name] = value;
  const std::string balancer_pidfile = locked + "/balancer.pid";
  faults.set({"fail open EACCES " + balancer_pidfile});
  auto balancer_refused =
      run_command({XENBALLOON_BALANCER_BIN, "--config", config, "--pidfile", balancer_pidfile,
                   "--web.listen-address", "127.0.0.1:" + std::to_string(free_port())},
                  balancer_env, 10s);
  CHECK(balancer_refused.exit_code == 1);
  CHECK(count_lines(balancer_refused.err,
                    "cannot open pidfile " + balancer_pidfile + ": Permission denied") == 1);
  auto balancer_taken =
      run_command({XENBALLOON_BALANCER_BIN, "--config", config}, balancer_env, 10s);
  ::close(holder);
  CHECK(balancer_taken.exit_code == 1);
  CHECK(count_lines(balancer_taken.err, "cannot listen on 127.0.0.1:" + std::to_string(port)) == 1);
  CHECK_FALSE(fs::exists(dir.path() + "/balancer.pid"));
  // Neither start wrote a balloon target.
  CHECK(slurp(target_kb_path(env)) == target_before);
}

TEST_CASE("the guest's xenstore connection cut mid-transaction is counted and recovered") {
  GuestEnv env("selfballoon: false\ninterval_seconds: 1\npublish_interval_seconds: 1\n");
  XsProxy proxy(env.root() + "/proxy.sock", env.xenstored().domain_socket(GuestEnv::kDomid));
  env.start_agent({}, true, {{"XENSTORED_PATH", proxy.path()}});
  auto ok = [&] { return metric_or_zero(env, "xenballoon_publications_total{result=\"ok\"}"); };
  REQUIRE(GuestEnv::wait_until([&] { return ok() >= 1; }, 5s));

  proxy.cut_next_transaction();
  REQUIRE(GuestEnv::wait_until([&] { return proxy.cuts() == 1; }, 5s));
  CHECK(GuestEnv::wait_until(
      [&] { return metric_or_zero(env, "xenballoon_xenstore_reconnects_total") >= 1; }, 5s));
  const double after_cut = ok();
  CHECK(GuestEnv::wait_until([&] { return ok() > after_cut; }, 4s));
  CHECK(metric_or_zero(env, "xenballoon_publications_total{result=\"error\"}") == 1);
  const std::string log = env.agent_log();
  CHECK(count_lines(log, "lost xenstore") == 1);
  CHECK(count_lines(log, "reconnected to xenstore") == 1);
  CHECK(count_lines(log, "publication failed") == 1);
  // The agent still follows dom0.
  tick_by_target(env, 230000);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 230000u; }, 2s));
  CHECK(env.agent().running());
}

namespace {

// The value of the first series of `family` whose labels contain `label` in a scrape.
std::optional<double> series_value(const std::string& scrape, const std::string& family,
                                   const std::string& label = "") {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family, 0) != 0) continue;
    const std::size_t space = line.rfind(' ');
    const std::string name = line.substr(0, space);
    if (name != family && name.rfind(family + "{", 0) != 0) continue;
    if (!label.empty() && name.find(label) == std::string::npos) continue;
    return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

// A dom0 daemon of the test (exporter or balancer) on its own port, killed by PID at the end.
struct Dom0Daemon {
  Dom0Daemon(const std::string& name, std::vector<std::string> argv, const Xenstored& xenstored,
             const TempDir& dir, std::uint16_t port)
      : log_path(dir.path() + "/" + name + ".log"), port(port) {
    process = ChildProcess(argv, xenstored.env_for(0), log_path, log_path);
    GuestEnv::wait_until([&] { return http_get(port, "/metrics").status == 200; }, 10s);
  }
  std::string scrape() const { return http_get(port, "/metrics").body; }
  std::optional<double> value(const std::string& family, const std::string& label = "") const {
    return series_value(scrape(), family, label);
  }
  std::string log() const { return slurp(log_path); }
  std::string log_path;
  std::uint16_t port;
  ChildProcess process;
};

}  // namespace

TEST_CASE("xenstored killed and restarted under the agent, exporter and balancer at once") {
  // A selfballooning guest (its ceiling is memory/target), an exporter and a balancer that grows
  // the guest from the host's spare memory, all on one xenstored-lite.
  GuestEnv env(
      "policy: classic\ninterval_seconds: 1\npublish_interval_seconds: 1\ndownhysteresis: 0\n");
  TempDir dir;
  // The tree as the toolstack laid it out (memory/target 256 MiB): what a restart brings back.
  const std::string layout = dir.path() + "/layout.txt";
  {
    auto dumped = run_command({"xenstore-ls", "-fp", "/"}, env.xenstored().env_for(0));
    REQUIRE(dumped.exit_code == 0);
    std::ofstream(layout) << dumped.out;
  }
  FaultControl faults;
  faults.record(target_kb_path(env));
  env.start_agent({}, true, faults.env());
  const std::string guest = "domid=\"" + std::to_string(GuestEnv::kDomid) + "\"";
  KernelBalloon kernel(env, 0);
  REQUIRE(GuestEnv::wait_until(
      [&] {
        std::string layout_version;
        return env.dom0().read(env.home() + "/data/xenballoon/layout", &layout_version) == 0;
      },
      5s));

  const std::uint16_t exporter_port = free_port();
  Dom0Daemon exporter("exporter",
                      {XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                       "127.0.0.1:" + std::to_string(exporter_port)},
                      env.xenstored(), dir, exporter_port);
  const std::uint16_t balancer_port = free_port();
  const std::string host_file = dir.path() + "/host-memory";
  std::ofstream(host_file) << "total_kib 4194304\nfree_kib 2097152\n";
  const std::string balancer_config = write_balancer_config(dir, balancer_port);
  Dom0Daemon balancer(
      "balancer",
      {XENBALLOON_BALANCER_BIN, "--config", balancer_config, "--host-memory-file", host_file},
      env.xenstored(), dir, balancer_port);
  auto dom0_target = [&](XsHandle& xs) {
    std::string value;
    return xs.read(env.home() + "/memory/target", &value) == 0 ? std::stoull(value) : 0;
  };
  // The guest needs more than its 256 MiB (classic: its target is Committed_AS); the balancer
  // grows its ceiling from the host's spare memory and the guest grows to its goal below it.
  constexpr std::uint64_t kGoalKib = 300 * 1024;
  kernel.set_meminfo_field("Committed_AS", kGoalKib);
  if (!GuestEnv::wait_until([&] { return dom0_target(env.dom0()) >= 400 * 1024; }, 15s)) {
    FAIL("the balancer did not grow the guest; its log:\n" << balancer.log());
  }
  REQUIRE(GuestEnv::wait_until([&] { return env.target_kb() == kGoalKib; }, 5s));
  // The ceiling the agent knows when xenstore goes is above the goal it will head for meanwhile.
  constexpr std::uint64_t kNewGoalKib = 350 * 1024;
  REQUIRE(GuestEnv::wait_until(
      [&] { return env.metric("xenballoon_dom0_target_bytes") >= kNewGoalKib * 1024.0; }, 5s));

  env.xenstored().process().stop(SIGKILL);
  // xenstore is down: the agent keeps ballooning under the ceiling it knows.
  kernel.set_meminfo_field("Committed_AS", kNewGoalKib);
  if (!GuestEnv::wait_until([&] { return env.target_kb() == kNewGoalKib; }, 5s)) {
    FAIL_CHECK("target_kb " << env.target_kb().value_or(0) << "; agent log:\n" << env.agent_log());
  }
  CHECK(GuestEnv::wait_until(
      [&] {
        return series_value(exporter.scrape(), "xenballoon_exporter_xenstore_connected") == 0.0 &&
               balancer.value("xenballoon_balancer_xenstore_connected") == 0.0 &&
               env.metric("xenballoon_xenstore_connected") == 0.0;
      },
      5s));
  const double writes_before =
      balancer.value("xenballoon_balancer_target_writes_total").value_or(0);

  // Back with the toolstack's layout (memory/target 256 MiB again) and the guest introduced.
  // steady_clock is CLOCK_MONOTONIC, the clock of the recorded writes.
  const std::int64_t restarted_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count();
  env.xenstored().restart(std::vector<std::string>{"--load", layout});
  XsHandle dom0(env.xenstored().socket());
  REQUIRE(xs_introduce_domain(dom0.get(), GuestEnv::kDomid, 1, 1));

  // Each reconnects by itself.
  CHECK(GuestEnv::wait_until(
      [&] {
        return series_value(exporter.scrape(), "xenballoon_exporter_xenstore_reconnects_total") >=
                   1.0 &&
               balancer.value("xenballoon_balancer_xenstore_connected") == 1.0 &&
               env.metric("xenballoon_xenstore_reconnects_total") >= 1.0;
      },
      10s));
  // The agent re-read memory/target (256 MiB now) and obeys it; the balancer, seeing the guest
  // again, grows it step by step, and the agent follows each new target up to its goal.
  CHECK(GuestEnv::wait_until(
      [&] {
        return balancer.value("xenballoon_balancer_target_writes_total").value_or(0) >
               writes_before;
      },
      10s));
  CHECK(GuestEnv::wait_until([&] { return dom0_target(dom0) >= kNewGoalKib; }, 10s));
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kNewGoalKib; }, 5s));
  // After the restart it obeyed the restored 256 MiB before the balancer raised it again.
  const auto writes = faults.recorded();
  CHECK(std::any_of(writes.begin(), writes.end(), [&](const RecordedWrite& w) {
    return w.monotonic_ns > restarted_ns && w.data == std::to_string(kDom0TargetKib);
  }));
  // The exporter's watch is back: a value the guest publishes after the restart shows.
  kernel.set_meminfo_field("Committed_AS", 360 * 1024);
  CHECK(GuestEnv::wait_until(
      [&] {
        return series_value(exporter.scrape(), "xenballoon_memory_committed_as_bytes", guest) ==
               360.0 * 1024 * 1024;
      },
      5s));

  CHECK(count_lines(exporter.log(), "lost xenstore") == 1);
  CHECK(count_lines(env.agent_log(), "lost xenstore") == 1);
  CHECK(env.agent().running());
  CHECK(exporter.process.running());
  CHECK(balancer.process.running());
  // Every value that reached target_kb: whole pages within [floor, static-max].
  check_every_write_in_bounds(faults, {kStaticMaxKib});
}

TEST_CASE("a SIGHUP with a broken configuration is refused, said once and counted by each daemon") {
  GuestEnv env(kDirected);
  TempDir dir;
  const std::string web = dir.path() + "/web.yml";
  std::ofstream(web) << "# plain HTTP, no users\n";
  env.start_agent({"--web.config.file", web});
  const std::uint16_t exporter_port = free_port();
  Dom0Daemon exporter("exporter",
                      {XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                       "127.0.0.1:" + std::to_string(exporter_port), "--web.config.file", web},
                      env.xenstored(), dir, exporter_port);
  const std::uint16_t balancer_port = free_port();
  const std::string balancer_config = write_balancer_config(dir, balancer_port);
  Dom0Daemon balancer(
      "balancer",
      {XENBALLOON_BALANCER_BIN, "--config", balancer_config, "--dry-run", "--web.config.file", web},
      env.xenstored(), dir, balancer_port);

  // Broken files: an unknown TLS key, a YAML key that does not exist. Two SIGHUPs each.
  std::ofstream(web) << "tls_server_config:\n  bogus_key: 1\n";
  std::ofstream(env.config_path()) << kDirected << "bogus_agent_key: 1\n";
  std::ofstream(balancer_config, std::ios::app) << "bogus_balancer_key: 1\n";
  const std::string web_refused = "keeping the running web configuration";
  const std::string config_refused = "keeping the running configuration;";
  for (std::size_t round = 1; round <= 2; ++round) {
    INFO("SIGHUP " << round);
    for (pid_t pid : {env.agent().pid(), exporter.process.pid(), balancer.process.pid()})
      ::kill(pid, SIGHUP);
    CHECK(GuestEnv::wait_until(
        [&] {
          return count_lines(env.agent_log(), web_refused) == round &&
                 count_lines(env.agent_log(), config_refused) == round &&
                 count_lines(exporter.log(), web_refused) == round &&
                 count_lines(balancer.log(), web_refused) == round &&
                 count_lines(balancer.log(), config_refused) == round;
        },
        5s));
  }
  CHECK(env.metric("xenballoon_config_reload_errors_total{file=\"config\"}") == 2.0);
  CHECK(env.metric("xenballoon_config_reload_errors_total{file=\"web\"}") == 2.0);
  CHECK(exporter.value("xenballoon_exporter_config_reload_errors_total", "file=\"web\"") == 2.0);
  CHECK(exporter.value("xenballoon_exporter_config_reload_errors_total", "file=\"config\"") == 0.0);
  CHECK(balancer.value("xenballoon_balancer_config_reload_errors_total", "file=\"config\"") == 2.0);
  CHECK(balancer.value("xenballoon_balancer_config_reload_errors_total", "file=\"web\"") == 2.0);
  // The bad keys are named; every daemon still serves, and the agent still follows dom0.
  CHECK(count_lines(env.agent_log(), "bogus_agent_key") >= 2);
  CHECK(count_lines(balancer.log(), "bogus_balancer_key") >= 2);
  CHECK(count_lines(exporter.log(), "bogus_key") == 2);
  tick_by_target(env, 230000);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 230000u; }, 2s));
  CHECK(env.agent().running());
  CHECK(exporter.process.running());
  CHECK(balancer.process.running());
}
