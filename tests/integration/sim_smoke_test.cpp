// xenballoon-sim end to end: a three-guest scenario run live with the real xenstored-lite,
// xenballoond agents and xenballoon-exporter (and Prometheus and Alertmanager when both are
// installed), then stopped with SIGTERM. About 40 seconds: the checks wait on the agents' own
// clocks (publication every 5 s, shrinking a tenth of the way per second) and on the model's
// spike, which starts 25 model seconds in.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http_get.h"
#include "process.h"
#include "sim_host.h"
#include "xs_client.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// idle: a steady 64 MiB service in 1 GiB, shrinks. rising: shrinks first, then a second process
// grows to 768 MiB from model second 25 (0.007 h), and the agent grows the guest. directed: the
// test switches its agent to directed ballooning and resizes it with mem-set. Small file working
// sets, so that warming the page cache does not read as a burst of major faults (which holds
// shrinking for a minute).
constexpr const char* kScenario = R"(name: smoke
description: three small guests for the simulator's smoke test
duration_hours: 1
host:
  memory_mib: 4096
guests:
  - name: idle
    static_max_mib: 1024
    memory_mib: 1024
    swap_mib: 256
    working_set_mib: 32
    seed: 11
    workload:
      type: steady
      base_mib: 64
  - name: rising
    static_max_mib: 1536
    memory_mib: 1536
    swap_mib: 256
    working_set_mib: 32
    seed: 12
    workload:
      type: spike
      base_mib: 64
      spike_mib: 768
      spike_at_hours: [0.007]
      ramp_seconds: 20
      hold_minutes: 10
  - name: directed
    static_max_mib: 1024
    memory_mib: 768
    swap_mib: 256
    working_set_mib: 32
    seed: 13
    workload:
      type: steady
      base_mib: 128
)";

const std::vector<std::string> kGuests = {"idle", "rising", "directed"};
constexpr std::uint64_t kKibPerMib = 1024;
constexpr std::uint64_t kMemSetMib = 384;

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return predicate();
}

bool installed(const std::string& program) {
  return run_command({"sh", "-c", "command -v \"$0\" >/dev/null", program}).exit_code == 0;
}

// One row of `xenballoon-sim list`: column name -> text.
std::map<std::string, std::string> list_row(const std::string& table, const std::string& name) {
  std::istringstream in(table);
  std::string header_line, line;
  std::getline(in, header_line);
  std::vector<std::string> header;
  std::istringstream header_fields(header_line);
  for (std::string column; header_fields >> column;) header.push_back(column);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> values;
    for (std::string value; fields >> value;) values.push_back(value);
    if (values.empty() || values[0] != name || values.size() != header.size()) continue;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = values[i];
    return row;
  }
  return {};
}

std::optional<std::uint64_t> number(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  try {
    std::size_t used = 0;
    const std::uint64_t value = std::stoull(text, &used);
    if (used == text.size()) return value;
  } catch (...) {
  }
  return std::nullopt;
}

// Lines of the logs that report an error, with the file they are in.
std::string error_lines(const std::vector<std::string>& logs) {
  std::string found;
  for (const std::string& path : logs) {
    std::istringstream in(slurp(path));
    std::string line;
    while (std::getline(in, line)) {
      for (const char* marker :
           {"[error]", "level=error", "ERROR: AddressSanitizer", "runtime error:"}) {
        if (line.find(marker) != std::string::npos) {
          found += fs::path(path).filename().string() + ": " + line + "\n";
          break;
        }
      }
    }
  }
  return found;
}

}  // namespace

TEST_CASE("xenballoon-sim runs a live host: agents publish, balloon, follow mem-set, and stop") {
  TempDir dir;
  const std::string run_dir = dir.path() + "/run";
  const std::string scenario_path = dir.path() + "/smoke.yaml";
  const std::string sim_log = dir.path() + "/xenballoon-sim.log";
  std::ofstream(scenario_path) << kScenario;

  // Prometheus and Alertmanager join when both are installed (scripts/install-deps.sh demo): they
  // start in about a second and show that the generated configuration and the rules load.
  const bool with_prometheus = installed("prometheus") && installed("prometheus-alertmanager");
  if (!with_prometheus) WARN("Prometheus or Alertmanager not installed: running --no-prometheus");

  const std::uint16_t base_port = free_port_run(1 + static_cast<int>(kGuests.size()));
  const std::uint16_t prometheus_port = free_port();
  const std::uint16_t alertmanager_port = free_port();
  std::vector<std::string> argv = {XENBALLOON_SIM_BIN,
                                   "run",
                                   "--scenario",
                                   scenario_path,
                                   "--rundir",
                                   run_dir,
                                   "--base-port",
                                   std::to_string(base_port),
                                   "--prometheus-port",
                                   std::to_string(prometheus_port),
                                   "--alertmanager-port",
                                   std::to_string(alertmanager_port)};
  if (!with_prometheus) argv.push_back("--no-prometheus");
  // mem-set is checked without the balancer, which would move the target again.
  argv.push_back("--no-balancer");
  ChildProcess sim(argv, {}, sim_log, sim_log);
  auto diagnostics = [&] {
    std::string text = "--- xenballoon-sim log:\n" + slurp(sim_log);
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(run_dir + "/logs", error)) {
      std::string log = slurp(entry.path().string());
      if (log.size() > 1500) log = "..." + log.substr(log.size() - 1500);
      text += "--- " + entry.path().filename().string() + " (end):\n" + log;
    }
    return text;
  };
  // Waits for `predicate`; on a timeout the check fails with `what` and every log.
  auto check_eventually = [&](const std::string& what, const std::function<bool()>& predicate,
                              std::chrono::milliseconds timeout) {
    if (eventually(predicate, timeout)) return true;
    FAIL_CHECK("timed out: " << what << "\n" << diagnostics());
    return false;
  };
  auto sim_command = [&](const std::string& command, std::vector<std::string> arguments = {}) {
    arguments.insert(arguments.begin(), {XENBALLOON_SIM_BIN, command, "--rundir", run_dir});
    return run_command(arguments);
  };

  // Up: the state file appears once every process listens.
  std::optional<SimState> state;
  const bool started = check_eventually(
      "the simulator's state file",
      [&] {
        state = read_sim_state(run_dir + "/state", kGuests.size());
        return state.has_value() || !sim.running();
      },
      30s);
  REQUIRE(started);
  REQUIRE(state.has_value());
  const std::size_t expected_processes = 2 + kGuests.size() + (with_prometheus ? 2 : 0);
  CHECK(state->processes.size() == expected_processes);
  const std::map<std::string, pid_t> children = state->processes;

  XsHandle dom0(run_dir + "/xenstore/socket");
  REQUIRE(dom0);
  auto home = [&](const std::string& guest) {
    return "/local/domain/" + std::to_string(state->domids.at(guest));
  };
  auto xs_value = [&](const std::string& path) {
    std::string value;
    return dom0.read(path, &value) == 0 ? value : std::string();
  };
  auto target_kb = [&](const std::string& guest) {
    return number(slurp(run_dir + "/guests/" + guest +
                        "/sys/devices/system/xen_memory/xen_memory0/target_kb"));
  };

  // dom0 switches the third guest to directed ballooning (a live override, as an admin would).
  REQUIRE(dom0.write(home("directed") + "/memory/selfballoon", "0") == 0);

  // The domains look like libxl's.
  CHECK(xs_value("/local/domain/0/name") == "Domain-0");
  for (const std::string& guest : kGuests) {
    CHECK(xs_value(home(guest) + "/name") == guest);
    const std::string vm = xs_value(home(guest) + "/vm");
    CHECK(vm.rfind("/vm/", 0) == 0);
    CHECK(xs_value(vm + "/name") == guest);
    CHECK(xs_value(home(guest) + "/memory/videoram") == "0");
  }

  // Every agent publishes a recent heartbeat.
  for (const std::string& guest : kGuests) {
    check_eventually(
        "a recent heartbeat from " + guest,
        [&] {
          auto heartbeat = number(xs_value(home(guest) + "/data/xenballoon/heartbeat"));
          return heartbeat && *heartbeat + 15 >= static_cast<std::uint64_t>(std::time(nullptr));
        },
        15s);
  }

  // The exporter shows every guest.
  check_eventually(
      "every guest in the exporter's /metrics",
      [&] {
        const std::string metrics = http_get(base_port, "/metrics").body;
        for (const std::string& guest : kGuests) {
          if (metrics.find("domain=\"" + guest + "\"") == std::string::npos) return false;
        }
        return true;
      },
      15s);

  // mem-set: refused for an unknown domain and above static-max, then applied.
  CHECK(sim_command("mem-set", {"no-such-guest", "256"}).exit_code != 0);
  const CommandResult too_big = sim_command("mem-set", {"directed", "4096"});
  CHECK(too_big.exit_code != 0);
  CHECK(too_big.err.find("static") != std::string::npos);
  check_eventually(
      "the directed guest's agent in directed mode",
      [&] { return xs_value(home("directed") + "/data/xenballoon/mode") == "directed"; }, 15s);
  const CommandResult mem_set = sim_command("mem-set", {"directed", std::to_string(kMemSetMib)});
  CHECK(mem_set.exit_code == 0);
  CHECK(mem_set.err == "");
  CHECK(xs_value(home("directed") + "/memory/target") == std::to_string(kMemSetMib * kKibPerMib));
  // The directed agent sets the balloon to dom0's target, and the domain gets there.
  check_eventually(
      "the directed agent's target at dom0's",
      [&] {
        return xs_value(home("directed") + "/data/xenballoon/target-kb") ==
               std::to_string(kMemSetMib * kKibPerMib);
      },
      15s);
  check_eventually(
      "xenballoon-sim list showing the directed guest at its new size",
      [&] {
        const auto row = list_row(sim_command("list").out, "directed");
        return row.count("Mem") && number(row.at("Mem")).value_or(UINT64_MAX) <= kMemSetMib + 1 &&
               row.at("Target") == std::to_string(kMemSetMib) && row.at("Mode") == "directed";
      },
      15s);

  // The idle guest shrinks to well below half its size.
  check_eventually(
      "the idle guest below 512 MiB",
      [&] { return target_kb("idle").value_or(UINT64_MAX) < 512 * kKibPerMib; }, 30s);

  // The rising guest shrinks first, then grows with its workload by far more than noise.
  std::uint64_t lowest_kib = UINT64_MAX;
  check_eventually(
      "the rising guest growing by 256 MiB from its lowest target",
      [&] {
        const auto now = target_kb("rising");
        if (!now) return false;
        lowest_kib = std::min(lowest_kib, *now);
        return *now > lowest_kib + 256 * kKibPerMib;
      },
      60s);
  CHECK(lowest_kib < 1024 * kKibPerMib);

  if (with_prometheus) {
    // Every target scraped and up, the project's rules loaded, Alertmanager ready.
    const std::size_t targets = 1 + kGuests.size();
    check_eventually(
        "every Prometheus target up",
        [&] {
          const std::string body = http_get(prometheus_port, "/api/v1/targets").body;
          std::size_t up = 0;
          for (std::size_t at = body.find("\"health\":\"up\""); at != std::string::npos;
               at = body.find("\"health\":\"up\"", at + 1)) {
            ++up;
          }
          return up == targets;
        },
        20s);
    CHECK(http_get(prometheus_port, "/api/v1/rules").body.find("XenGuestSwapping") !=
          std::string::npos);
    CHECK(http_get(alertmanager_port, "/-/ready").status == 200);
  }

  // The generated Prometheus configuration (written with or without --no-prometheus) and the rules
  // it names are valid.
  if (installed("promtool")) {
    const CommandResult check =
        run_command({"promtool", "check", "config", run_dir + "/prometheus/prometheus.yml"});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
  }

  // SIGTERM: a clean exit, every child gone, the state file removed.
  const int status = sim.stop(SIGTERM, 30s);
  CHECK(status >= 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (const auto& [name, pid] : children) {
    INFO(name << " pid " << pid);
    CHECK_FALSE(pid_alive(pid));
  }
  CHECK_FALSE(fs::exists(run_dir + "/state"));

  // Nothing reported an error, in any process' log.
  std::vector<std::string> logs = {sim_log};
  for (const auto& entry : fs::directory_iterator(run_dir + "/logs")) {
    logs.push_back(entry.path().string());
  }
  CHECK(logs.size() == 1 + expected_processes);
  CHECK(error_lines(logs) == "");
}

// Two idle guests and one whose load spikes past its initial target on a host without room to
// spare: selfballooning alone caps the spiking guest at its target; the balancer raises its
// memory/target with memory the idle guests give back.
constexpr const char* kBalancerScenario = R"(name: balancer-smoke
description: the balancer moves memory from two idle guests to a spiking one
duration_hours: 1
host:
  memory_mib: 3200
guests:
  - name: idle-a
    static_max_mib: 2048
    memory_mib: 1024
    swap_mib: 256
    working_set_mib: 32
    seed: 21
    workload:
      type: steady
      base_mib: 64
  - name: idle-b
    static_max_mib: 2048
    memory_mib: 1024
    swap_mib: 256
    working_set_mib: 32
    seed: 22
    workload:
      type: steady
      base_mib: 64
  - name: spiky
    static_max_mib: 2048
    memory_mib: 768
    swap_mib: 256
    working_set_mib: 32
    seed: 23
    workload:
      type: spike
      base_mib: 64
      spike_mib: 1100
      spike_at_hours: [0.003]
      ramp_seconds: 10
      hold_minutes: 10
)";

TEST_CASE("xenballoon-sim with the balancer gives a spiking guest memory from idle ones") {
  TempDir dir;
  const std::string run_dir = dir.path() + "/run";
  const std::string scenario_path = dir.path() + "/balancer.yaml";
  const std::string sim_log = dir.path() + "/xenballoon-sim.log";
  std::ofstream(scenario_path) << kBalancerScenario;
  const std::vector<std::string> guests = {"idle-a", "idle-b", "spiky"};
  // The exporter, one port per agent, the balancer.
  const std::uint16_t base_port = free_port_run(2 + static_cast<int>(guests.size()));
  const std::uint16_t balancer_port = static_cast<std::uint16_t>(base_port + 1 + guests.size());
  const bool with_prometheus = installed("prometheus") && installed("prometheus-alertmanager");
  const std::uint16_t prometheus_port = free_port();
  const std::uint16_t alertmanager_port = free_port();
  std::vector<std::string> argv = {XENBALLOON_SIM_BIN,
                                   "run",
                                   "--scenario",
                                   scenario_path,
                                   "--rundir",
                                   run_dir,
                                   "--base-port",
                                   std::to_string(base_port),
                                   "--prometheus-port",
                                   std::to_string(prometheus_port),
                                   "--alertmanager-port",
                                   std::to_string(alertmanager_port)};
  if (!with_prometheus) argv.push_back("--no-prometheus");
  ChildProcess sim(argv, {}, sim_log, sim_log);
  auto diagnostics = [&] {
    std::string text = "--- xenballoon-sim log:\n" + slurp(sim_log);
    text += "--- balancer log:\n" + slurp(run_dir + "/logs/xenballoon-balancer.log");
    return text;
  };
  std::optional<SimState> state;
  REQUIRE(eventually(
      [&] {
        state = read_sim_state(run_dir + "/state", guests.size());
        return state.has_value() || !sim.running();
      },
      30s));
  INFO(diagnostics());
  REQUIRE(state.has_value());
  CHECK(state->processes.count("xenballoon-balancer") == 1);

  XsHandle dom0(run_dir + "/xenstore/socket");
  REQUIRE(dom0);
  auto target_mib = [&](const std::string& guest) -> std::uint64_t {
    std::string value;
    if (dom0.read("/local/domain/" + std::to_string(state->domids.at(guest)) + "/memory/target",
                  &value) != 0) {
      return 0;
    }
    return number(value).value_or(0) / kKibPerMib;
  };
  // The spike starts 11 model seconds in and needs about 1.2 GiB: the balancer must have raised
  // the guest's target well past the 768 MiB it started with, while the idle ones shrank.
  const bool grew = eventually([&] { return target_mib("spiky") >= 1024; }, 120s);
  INFO("targets: idle-a " << target_mib("idle-a") << " MiB, idle-b " << target_mib("idle-b")
                          << " MiB, spiky " << target_mib("spiky") << " MiB\n"
                          << diagnostics());
  CHECK(grew);
  CHECK(target_mib("idle-a") < 1024);
  CHECK(target_mib("idle-b") < 1024);
  // Never more than the host: targets sum below its 3200 MiB.
  CHECK(target_mib("idle-a") + target_mib("idle-b") + target_mib("spiky") <= 3200);

  // Without a hypervisor the exporter reads the host's memory from the simulator's file.
  const std::string exported = http_get(base_port, "/metrics").body;
  CHECK(exported.find("xenballoon_host_memory_total_bytes 3355443200") != std::string::npos);
  CHECK(exported.find("xenballoon_host_memory_free_bytes ") != std::string::npos);

  // The balancer's own metrics say what it did.
  auto scrape = http_get(balancer_port, "/metrics");
  REQUIRE(scrape.status == 200);
  CHECK(scrape.body.find("xenballoon_balancer_applied_target_bytes{") != std::string::npos);
  CHECK(scrape.body.find("xenballoon_balancer_need_bytes{") != std::string::npos);
  CHECK(scrape.body.find("xenballoon_balancer_decisions_total{") != std::string::npos);

  if (with_prometheus) {
    // The fleet dashboard's balancer panels, evaluated by the simulated host's Prometheus: each
    // query is valid and those that always have data return some. Its variables take their
    // defaults (the jobs) or all values (tests/dashboards/live_test.py evaluates every panel).
    const auto dashboard =
        nlohmann::json::parse(slurp(XENBALLOON_SOURCE_DIR "/dashboards/xenballoon-fleet.json"));
    std::size_t panels = 0;
    for (const auto& panel : dashboard.at("panels")) {
      const std::string title = panel.value("title", "");
      if (title.rfind("Balancer:", 0) != 0) continue;
      ++panels;
      for (const auto& target : panel.at("targets")) {
        std::string expr = target.at("expr").get<std::string>();
        for (auto [from, to] : {std::pair<std::string, std::string>{"$domain", ".*"},
                                {"$instance", ".*"},
                                {"$balancer_job", "xenballoon-balancer"},
                                {"$__rate_interval", "1m"}}) {
          for (auto at = expr.find(from); at != std::string::npos; at = expr.find(from)) {
            expr.replace(at, from.size(), to);
          }
        }
        const bool has_data =
            title != "Balancer: guests not ok" && title != "Balancer: decisions by reason";
        std::string body;
        const bool answered = eventually(
            [&] {
              auto reply = run_command(
                  {"curl", "-sfG",
                   "http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/query",
                   "--data-urlencode", "query=" + expr});
              body = reply.out;
              if (reply.exit_code != 0) return false;
              const auto result = nlohmann::json::parse(body, nullptr, false);
              if (result.is_discarded() || result.value("status", "") != "success") return false;
              return !has_data || !result["data"]["result"].empty();
            },
            30s);
        INFO(title << ": " << expr << " -> " << body);
        CHECK(answered);
      }
    }
    CHECK(panels == 4);

    // The host's exporter and balancer share `instance` (the host without the port), as the
    // shipped scrape configurations set it, so a dashboard's Host variable selects both.
    std::string body;
    const bool joined = eventually(
        [&] {
          body =
              run_command({"curl", "-sfG",
                           "http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/query",
                           "--data-urlencode",
                           "query=count by (instance) (up{job=~\"xenballoon-exporter|"
                           "xenballoon-balancer\",instance=\"127.0.0.1\"}) == 2"})
                  .out;
          return body.find("\"instance\":\"127.0.0.1\"") != std::string::npos;
        },
        30s);
    INFO(body);
    CHECK(joined);
  }

  const int status = sim.stop(SIGTERM, 30s);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::vector<std::string> logs = {sim_log};
  for (const auto& entry : fs::directory_iterator(run_dir + "/logs")) {
    logs.push_back(entry.path().string());
  }
  CHECK(error_lines(logs) == "");
}
