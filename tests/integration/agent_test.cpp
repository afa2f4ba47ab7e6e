// The real xenballoond against xenstored-lite, with fixture /proc and /sys trees a test changes.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "guest_env.h"
#include "http_get.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;

namespace {

// Real-capture guest: static-max 512 MiB -> floor 104 + 131072/2048 = 168 MiB = 172032 KiB.
constexpr std::uint64_t kFloorKib = 172032;
// What the balloon holds beyond MemTotal (kernel, memmap): current_kb 262144 - MemTotal 204924.
// The pressure policy adds it to Committed_AS + reserve so that the guest gets usable memory.
constexpr std::uint64_t kOverheadKib = 262144 - 204924;
constexpr std::uint64_t kDom0TargetKib = 262144;

const char* kFastPressure = R"(policy: pressure
interval_seconds: 1
publish_interval_seconds: 1
downhysteresis: 1
pressure:
  reserve_mib: 16
  burst_window_seconds: 1
  shrink_cooldown_seconds: 2
)";

std::string read_value(GuestEnv& env, const std::string& relative) {
  std::string value;
  env.dom0().read(env.home() + "/" + relative, &value);
  return value;
}

}  // namespace

TEST_CASE("selfballooning shrinks to the floor and grows back when the need rises") {
  GuestEnv env(kFastPressure);
  env.start_agent();
  REQUIRE(env.agent().running());
  // Committed_AS is 5 MiB in the capture: the goal falls to the floor.
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kFloorKib; }, 8s));

  // The need rises to 150 MiB: goal 150 + 16 MiB reserve + overhead, below dom0's target.
  env.set_meminfo_field("Committed_AS", 150 * 1024);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 166 * 1024 + kOverheadKib; }, 5s));

  // More than dom0 allows: capped at memory/target, never above.
  env.set_meminfo_field("Committed_AS", 900 * 1024);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kDom0TargetKib; }, 5s));
  std::this_thread::sleep_for(1500ms);
  CHECK(env.target_kb() == kDom0TargetKib);
  CHECK(env.metric("xenballoon_adjustments_total{direction=\"down\"}").value_or(0) >= 1);
  CHECK(env.metric("xenballoon_adjustments_total{direction=\"up\"}").value_or(0) >= 1);
}

TEST_CASE("the shipped policy gives memory back by probes of 1 % a tick and grows at once") {
  // Every setting as shipped (pressure-v2) but a 2 s stall window, so that probing starts soon.
  GuestEnv env("pressure:\n  stall_window_seconds: 2\n");
  env.start_agent();
  REQUIRE(env.agent().running());
  std::uint64_t level = kDom0TargetKib;
  int probes = 0;
  GuestEnv::wait_until(
      [&] {
        const std::uint64_t now = env.target_kb().value_or(level);
        if (now != level) {
          CHECK(now < level);
          CHECK(level - now <= level / 100 + 4);  // 1 %, page-rounded
          level = now;
          ++probes;
        }
        return probes >= 3;
      },
      15s);
  CHECK(probes >= 3);
  CHECK(level >= kFloorKib);
  // The need rises beyond dom0's target (150 MiB + 64 MiB of spike headroom + overhead): at once
  // to the ceiling, not by steps.
  env.set_meminfo_field("Committed_AS", 150 * 1024);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kDom0TargetKib; }, 3s));
  CHECK(env.metric("xenballoon_adjustments_total{direction=\"up\"}").value_or(0) == 1);
}

TEST_CASE("the classic policy reproduces the 2008 arithmetic on a live guest") {
  GuestEnv env("policy: classic\ninterval_seconds: 1\ndownhysteresis: 0\n");
  env.start_agent();
  // max(Committed_AS, floor) = floor; downhysteresis 0 jumps there.
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kFloorKib; }, 5s));
}

TEST_CASE("garbage in /proc/meminfo writes no target and counts the skip") {
  GuestEnv env(kFastPressure);
  { std::ofstream(env.procfs() + "/meminfo") << "MemTotal: lots kB\nCommitted_AS: 5136 kB\n"; }
  env.start_agent();
  std::this_thread::sleep_for(2500ms);
  CHECK(env.target_kb() == kDom0TargetKib);  // untouched
  auto scrape = env.scrape();
  CHECK(scrape.find("xenballoon_ticks_skipped_total{reason=\"missing-memtotal\"}") !=
        std::string::npos);
  CHECK(env.agent_log().find("/meminfo:1") != std::string::npos);  // names file and line
}

TEST_CASE("the agent publishes the data/xenballoon layout, readable by dom0") {
  GuestEnv env(kFastPressure);
  env.start_agent();
  REQUIRE(GuestEnv::wait_until(
      [&] { return read_value(env, "data/xenballoon/target-kb") == std::to_string(kFloorKib); },
      8s));
  CHECK(read_value(env, "data/xenballoon/layout") == "1");
  CHECK(read_value(env, "data/xenballoon/mode") == "selfballoon");
  CHECK(read_value(env, "data/xenballoon/policy") == "pressure");
  CHECK(read_value(env, "data/xenballoon/floor-kb") == std::to_string(kFloorKib));
  CHECK(read_value(env, "data/xenballoon/meminfo").find("MemTotal 204924\n") != std::string::npos);
  CHECK(read_value(env, "data/xenballoon/meminfo").find("Committed_AS 5136\n") !=
        std::string::npos);
  CHECK(read_value(env, "data/xenballoon/vmstat").find("pswpin 0\n") != std::string::npos);
  CHECK(read_value(env, "data/xenballoon/uptime") == "7.30 2.52");
  CHECK(read_value(env, "data/xenballoon/pressure").rfind("some avg10=0.00", 0) == 0);
  auto heartbeat = std::stoll(read_value(env, "data/xenballoon/heartbeat"));
  CHECK(std::abs(heartbeat - std::time(nullptr)) < 5);
  // Every value the agent wrote stays below the 2048-byte record quota.
  std::vector<std::string> keys;
  REQUIRE(env.dom0().list(env.home() + "/data/xenballoon", &keys) == 0);
  CHECK(keys.size() >= 12);
  for (const auto& k : keys) CHECK(read_value(env, "data/xenballoon/" + k).size() < 2000);
  // The agent counts its own CPU per activity: some, and far less than the wall time elapsed.
  for (const char* activity : {"tick", "publish"}) {
    auto cpu =
        env.metric(std::string("xenballoon_cpu_seconds_total{activity=\"") + activity + "\"}");
    REQUIRE(cpu.has_value());
    CHECK(*cpu > 0);
    CHECK(*cpu < 1.0);
  }
}

TEST_CASE("directed ballooning follows memory/target within 100 ms, both ways") {
  GuestEnv env("selfballoon: false\ninterval_seconds: 10\n");
  env.start_agent();
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kDom0TargetKib; }, 3s));
  // The median of several changes, so that one scheduling hiccup on a busy machine does not
  // decide the result; every change must be followed.
  std::vector<std::chrono::milliseconds> took;
  for (std::uint64_t target : {196608u, 450000u, 240000u, 300000u, 220000u}) {
    auto start = std::chrono::steady_clock::now();
    REQUIRE(env.dom0().write(env.home() + "/memory/target", std::to_string(target)) == 0);
    if (!GuestEnv::wait_until([&] { return env.target_kb() == target; }, 2s)) {
      FAIL_CHECK("target_kb did not follow " << target << "; agent log:\n" << env.agent_log());
    }
    took.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start));
  }
  std::sort(took.begin(), took.end());
  CHECK(took[took.size() / 2] < 100ms);
  // The agent observes the latency just after it writes target_kb: the last observation may
  // land a moment after the file changed.
  CHECK(GuestEnv::wait_until(
      [&] { return env.metric("xenballoon_directed_latency_seconds_count").value_or(0) >= 5; },
      2s));
  CHECK(env.metric("xenballoon_selfballoon_enabled") == 0);
}

TEST_CASE("while selfballooning, dom0's target is the ceiling in both directions") {
  GuestEnv env(kFastPressure);
  env.set_meminfo_field("Committed_AS", 400 * 1024);  // needs more than dom0 gives
  env.start_agent();
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kDom0TargetKib; }, 5s));
  // dom0 lowers the target: the ceiling comes down with it.
  REQUIRE(env.dom0().write(env.home() + "/memory/target", "220000") == 0);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 220000u; }, 3s));
  // dom0 raises it: the guest takes memory back, up to its need (416 MiB + overhead).
  REQUIRE(env.dom0().write(env.home() + "/memory/target", "500000") == 0);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 416u * 1024 + kOverheadKib; }, 4s));
}

TEST_CASE("dom0 overrides under memory/ apply live and are visible on /metrics") {
  GuestEnv env(kFastPressure);
  env.start_agent();
  REQUIRE(GuestEnv::wait_until([&] { return env.target_kb() == kFloorKib; }, 8s));
  auto set = [&](const std::string& key, const std::string& value) {
    REQUIRE(env.dom0().write(env.home() + "/memory/" + key, value) == 0);
  };

  set("selfballoon", "0");  // follow dom0
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == kDom0TargetKib; }, 3s));
  CHECK(GuestEnv::wait_until(
      [&] { return env.metric("xenballoon_effective_setting{setting=\"selfballoon\"}") == 0; },
      3s));
  set("selfballoon", "1");
  set("minmem", "200");  // a higher floor
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 200u * 1024; }, 5s));
  set("interval", "2");
  set("uphysteresis", "4");
  set("downhysteresis", "8");
  CHECK(GuestEnv::wait_until(
      [&] {
        return env.metric("xenballoon_effective_setting{setting=\"interval_seconds\"}") == 2 &&
               env.metric("xenballoon_effective_setting{setting=\"uphysteresis\"}") == 4 &&
               env.metric("xenballoon_effective_setting{setting=\"downhysteresis\"}") == 8 &&
               env.metric("xenballoon_effective_setting{setting=\"minmem_mib\"}") == 200;
      },
      5s));
  set("interval", "banana");
  set("selfballoon", "7");
  CHECK(GuestEnv::wait_until(
      [&] {
        return env.metric("xenballoon_override_errors_total{key=\"interval\"}") == 1 &&
               env.metric("xenballoon_override_errors_total{key=\"selfballoon\"}") == 1;
      },
      3s));
  CHECK(env.agent_log().find("ignoring dom0 override memory/interval") != std::string::npos);
  // The rejected interval falls back to the configured one; the agent carries on.
  CHECK(GuestEnv::wait_until(
      [&] { return env.metric("xenballoon_effective_setting{setting=\"interval_seconds\"}") == 1; },
      4s));
  CHECK(env.agent().running());
}

TEST_CASE("a second instance refuses to start and names the running one") {
  GuestEnv env(kFastPressure);
  env.start_agent();
  REQUIRE(env.agent().running());
  auto second =
      run_command({xenballoond_binary(), "--config", env.config_path(), "--pidfile", env.pidfile(),
                   "--path.procfs", env.procfs(), "--path.sysfs", env.sysfs(),
                   "--web.listen-address", "127.0.0.1:" + std::to_string(free_port())},
                  env.xenstored().env_for(GuestEnv::kDomid), 5s);
  CHECK(second.exit_code == 1);
  INFO("stderr: " << second.err);
  CHECK(second.err.find("already running: PID " + std::to_string(env.agent().pid())) !=
        std::string::npos);
  CHECK(env.agent().running());
}

TEST_CASE("SIGTERM restores dom0's target and exits within a second") {
  GuestEnv env(kFastPressure);
  env.start_agent();
  REQUIRE(GuestEnv::wait_until([&] { return env.target_kb() == kFloorKib; }, 8s));
  auto start = std::chrono::steady_clock::now();
  int status = env.agent().stop(SIGTERM, 2s);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  REQUIRE(status >= 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(env.target_kb() == kDom0TargetKib);
  CHECK_FALSE(std::filesystem::exists(env.pidfile()));
}

TEST_CASE("on_exit: leave keeps the balloon where it is") {
  GuestEnv env(std::string(kFastPressure) + "on_exit: leave\n");
  env.start_agent();
  REQUIRE(GuestEnv::wait_until([&] { return env.target_kb() == kFloorKib; }, 8s));
  env.agent().stop(SIGTERM, 2s);
  CHECK(env.target_kb() == kFloorKib);
}

TEST_CASE("the agent survives xenstored being killed and restarted") {
  GuestEnv env("selfballoon: false\ninterval_seconds: 1\npublish_interval_seconds: 1\n");
  env.start_agent();
  REQUIRE(
      GuestEnv::wait_until([&] { return read_value(env, "data/xenballoon/layout") == "1"; }, 5s));

  // Keep the tree, kill the daemon hard, bring it back with the same tree, introduce the guest.
  TempDir tmp;
  std::string dump = tmp.path() + "/tree.txt";
  {
    auto r = run_command({"xenstore-ls", "-fp", "/"}, env.xenstored().env_for(0));
    REQUIRE(r.exit_code == 0);
    std::ofstream(dump) << r.out;
  }
  env.xenstored().process().stop(SIGKILL);
  std::this_thread::sleep_for(1500ms);  // the agent notices and backs off
  REQUIRE(env.agent().running());
  env.xenstored().restart(std::vector<std::string>{"--load", dump});
  XsHandle dom0(env.xenstored().socket());
  REQUIRE(xs_introduce_domain(dom0.get(), GuestEnv::kDomid, 1, 1));

  // It reconnects, re-registers its watch and follows dom0 again.
  CHECK(GuestEnv::wait_until(
      [&] { return env.metric("xenballoon_xenstore_reconnects_total").value_or(0) >= 1; }, 10s));
  REQUIRE(dom0.write(env.home() + "/memory/target", "200000") == 0);
  CHECK(GuestEnv::wait_until([&] { return env.target_kb() == 200000u; }, 2s));
  std::string heartbeat;
  CHECK(GuestEnv::wait_until(
      [&] {
        return dom0.read(env.home() + "/data/xenballoon/heartbeat", &heartbeat) == 0 &&
               std::abs(std::stoll(heartbeat) - std::time(nullptr)) < 3;
      },
      5s));
}

TEST_CASE("/metrics, /healthz and the landing page, and clean answers to bad requests") {
  GuestEnv env(kFastPressure);
  env.start_agent();
  auto metrics = http_get(env.port(), "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.headers.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(metrics.body.find("xenballoon_memory_mem_total_bytes 209842176") != std::string::npos);
  CHECK(metrics.body.find("xenballoon_memory_active_anon_bytes") != std::string::npos);
  CHECK(metrics.body.find("xenballoon_vmstat_pgmajfault_total") != std::string::npos);
  CHECK(metrics.body.find("xenballoon_static_max_bytes 536870912") != std::string::npos);
  CHECK(metrics.body.find("xenballoon_build_info{version=") != std::string::npos);
  CHECK(http_get(env.port(), "/healthz").status == 200);
  CHECK(http_get(env.port(), "/").body.find("/metrics") != std::string::npos);
  CHECK(http_get(env.port(), "/nope").status == 404);
  CHECK(http_get(env.port(), "/metrics", "POST").status == 405);
  CHECK(http_get(env.port(), "/metrics", "HEAD").body.empty());
}

TEST_CASE("SIGHUP reloads a valid configuration and refuses an invalid one") {
  GuestEnv env(kFastPressure);
  env.start_agent();
  REQUIRE(GuestEnv::wait_until([&] { return env.target_kb() == kFloorKib; }, 8s));
  std::ofstream(env.config_path()) << kFastPressure << "minmem_mib: 190\n";
  ::kill(env.agent().pid(), SIGHUP);
  if (!GuestEnv::wait_until([&] { return env.target_kb() == 190u * 1024; }, 5s)) {
    FAIL_CHECK("no reload; agent log:\n" << env.agent_log());
  }
  std::ofstream(env.config_path()) << "interval_seconds: -3\nbogus_key: 1\n";
  ::kill(env.agent().pid(), SIGHUP);
  CHECK(GuestEnv::wait_until(
      [&] {
        return env.agent_log().find("keeping the running configuration") != std::string::npos;
      },
      3s));
  CHECK(env.agent_log().find("bogus_key") != std::string::npos);
  std::this_thread::sleep_for(1500ms);
  CHECK(env.target_kb() == 190u * 1024);
  CHECK(env.agent().running());
}

TEST_CASE("check-config names the key and the line, and once explains the decision") {
  TempDir tmp;
  std::string bad = tmp.path() + "/bad.yaml";
  std::ofstream(bad) << "policy: pressure\ninterval_seconds: soon\n";
  auto r = run_command({xenballoond_binary(), "--config", bad, "--check-config"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("bad.yaml:2") != std::string::npos);
  CHECK(r.err.find("interval_seconds") != std::string::npos);

  GuestEnv env(kFastPressure);
  auto once = run_command({xenballoond_binary(), "--config", env.config_path(), "--once",
                           "--dry-run", "--path.procfs", env.procfs(), "--path.sysfs", env.sysfs()},
                          env.xenstored().env_for(GuestEnv::kDomid));
  CHECK(once.exit_code == 0);
  CHECK(once.out.find("Committed_AS: 5136 KiB") != std::string::npos);
  CHECK(once.out.find("memory/static-max: 524288 KiB") != std::string::npos);
  CHECK(once.out.find("decision: ") != std::string::npos);
  CHECK(once.out.find("action: none (dry run)") != std::string::npos);
  CHECK(env.target_kb() == kDom0TargetKib);
}

TEST_CASE("dry-run on a machine without Xen serves metrics and says once why") {
  TempDir tmp;
  std::uint16_t port = free_port();
  ChildProcess agent({xenballoond_binary(), "--dry-run", "--pidfile", "", "--config", "/dev/null",
                      "--web.listen-address", "127.0.0.1:" + std::to_string(port)},
                     {{"XENSTORED_PATH", tmp.path() + "/no-such-socket"}}, tmp.path() + "/log",
                     tmp.path() + "/log");
  REQUIRE(GuestEnv::wait_until([&] { return http_get(port, "/metrics").status == 200; }, 5s));
  std::this_thread::sleep_for(2500ms);
  auto body = http_get(port, "/metrics").body;
  CHECK(body.find("xenballoon_memory_mem_total_bytes") != std::string::npos);
  std::ifstream in(tmp.path() + "/log");
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto first = log.find("cannot balloon");
  CHECK(first != std::string::npos);
  CHECK(log.find("cannot balloon", first + 1) == std::string::npos);  // once
}

TEST_CASE("with --log.format logfmt every line of the agent's log is logfmt") {
  TempDir tmp;
  std::uint16_t port = free_port();
  ChildProcess agent(
      {xenballoond_binary(), "--dry-run", "--pidfile", "", "--config", "/dev/null", "--log.format",
       "logfmt", "--web.listen-address", "127.0.0.1:" + std::to_string(port)},
      {{"XENSTORED_PATH", tmp.path() + "/no-such-socket"}}, tmp.path() + "/log",
      tmp.path() + "/log");
  REQUIRE(GuestEnv::wait_until([&] { return http_get(port, "/metrics").status == 200; }, 5s));
  std::string log;
  REQUIRE(GuestEnv::wait_until(
      [&] {
        std::ifstream in(tmp.path() + "/log");
        log.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        return log.find("cannot balloon") != std::string::npos;
      },
      5s));
  std::istringstream lines(log);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    INFO(line);
    CHECK(line.rfind("ts=", 0) == 0);
    CHECK(line.find(" prog=xenballoond ") != std::string::npos);
    CHECK(line.find(" msg=\"") != std::string::npos);
  }
  CHECK(count > 0);
}

TEST_CASE("legacy_paths writes the 2008 keys where dom0 allows, and reports EACCES once") {
  GuestEnv env(std::string(kFastPressure) + "legacy_paths: true\n");
  env.start_agent();
  // libxl's default: memory/ is read-only for the guest.
  CHECK(GuestEnv::wait_until(
      [&] {
        return env.agent_log().find("legacy_paths: dom0 has not granted write access") !=
               std::string::npos;
      },
      5s));
  std::this_thread::sleep_for(2500ms);
  auto log = env.agent_log();
  auto first = log.find("legacy_paths: dom0 has not granted");
  CHECK(log.find("legacy_paths: dom0 has not granted", first + 1) == std::string::npos);
  CHECK(env.metric("xenballoon_xenstore_errors_total{error=\"EACCES\",operation=\"legacy_write\"}")
            .value_or(0) >= 2);

  // dom0 grants the guest the 2008 keys (as an old toolstack setup would).
  xs_permissions writable[1] = {{GuestEnv::kDomid, XS_PERM_NONE}};
  for (const char* key : {"meminfo", "vmstat", "uptime", "selftarget"}) {
    std::string path = env.home() + "/memory/" + key;
    REQUIRE(env.dom0().write(path, "") == 0);
    REQUIRE(xs_set_permissions(env.dom0().get(), XBT_NULL, path.c_str(), writable, 1));
  }
  std::string value;
  CHECK(GuestEnv::wait_until(
      [&] {
        std::string vmstat;
        return env.dom0().read(env.home() + "/memory/selftarget", &value) == 0 &&
               value == std::to_string(kFloorKib) &&
               env.dom0().read(env.home() + "/memory/vmstat", &vmstat) == 0 && !vmstat.empty();
      },
      8s));
  env.dom0().read(env.home() + "/memory/meminfo", &value);
  CHECK(value.rfind("MemTotal:         204924 kB\nMemFree:          176464 kB\n", 0) == 0);
  CHECK(value.back() != '\n');
  env.dom0().read(env.home() + "/memory/vmstat", &value);
  CHECK(value.find("pswpin 0") != std::string::npos);
  env.dom0().read(env.home() + "/memory/uptime", &value);
  CHECK(value == "7.30 2.52");
}

TEST_CASE("under systemd the agent sends READY=1, and watchdog pings however long its interval") {
  TempDir tmp;
  std::string socket_path = tmp.path() + "/notify";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  // A 60 s policy interval (dom0 may stretch it further) must not starve a 1 s watchdog.
  GuestEnv env("interval_seconds: 60\n");
  std::uint16_t port = free_port();
  ChildProcess agent({xenballoond_binary(), "--config", env.config_path(), "--path.procfs",
                      env.procfs(), "--path.sysfs", env.sysfs(), "--pidfile", env.pidfile(),
                      "--web.listen-address", "127.0.0.1:" + std::to_string(port)},
                     {{"XENSTORED_PATH", env.xenstored().domain_socket(GuestEnv::kDomid)},
                      {"NOTIFY_SOCKET", socket_path},
                      {"WATCHDOG_USEC", "1000000"}});
  int ready = 0, pings = 0;
  char buf[512];
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 3s) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    std::string message(buf, static_cast<std::size_t>(n));
    ready += message == "READY=1";
    pings += message == "WATCHDOG=1";
  }
  ::close(fd);
  CHECK(ready == 1);
  CHECK(pings >= 4);  // every half second: 6 in 3 s, of which at least 4 even on a busy machine
}
