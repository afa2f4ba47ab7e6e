// The alert rules end to end: the simulated host (xenballoon-sim run, its own Prometheus off)
// watched by a real Prometheus that evaluates alerts/xenballoon.rules.yml every second and a real
// Alertmanager, configured as config/alertmanager/alertmanager.yml, that delivers to a webhook
// receiver this test runs. Four guests: one driven into swap (xenballoon-sim workload) and back,
// one whose agent is killed, one that writes garbage into its data/ keys, one whose workload
// outgrows its memory and swap. Each alert must be delivered to the receiver its severity routes
// to, the swap alert resolved, and none twice although Prometheus scrapes the agents too. The
// rules run with every `for:` and range divided by kTimeScale (thresholds unchanged), and
// Alertmanager with 1 s group waits and intervals, so the test takes about a minute.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http_get.h"
#include "process.h"
#include "sim_host.h"
#include "webhook_receiver.h"
#include "xs_client.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTimeScale = 20;

// swapper: dom0's target (384 MiB) holds it well below its 1 GiB static-max; with 80 % of a
// 600 MiB service hot, what is in swap swaps back in at about 9 MiB/s. stale: its agent is
// killed. hostile: its data/ keys get garbage. crasher: a 1 GiB service in 256 MiB and 64 MiB of
// swap is OOM-killed. Small file working sets: no burst of page-cache faults at start.
constexpr const char* kScenario = R"(name: alerts-live
description: three guests for the live alert test
duration_hours: 1
host:
  memory_mib: 4096
guests:
  - name: swapper
    static_max_mib: 1024
    memory_mib: 384
    swap_mib: 512
    working_set_mib: 16
    seed: 31
    workload:
      type: steady
      base_mib: 64
  - name: stale
    static_max_mib: 512
    memory_mib: 512
    swap_mib: 128
    working_set_mib: 16
    seed: 32
    workload:
      type: steady
      base_mib: 64
  - name: hostile
    static_max_mib: 512
    memory_mib: 512
    swap_mib: 128
    working_set_mib: 16
    seed: 33
    workload:
      type: steady
      base_mib: 64
  - name: crasher
    static_max_mib: 512
    memory_mib: 256
    swap_mib: 64
    working_set_mib: 16
    seed: 34
    workload:
      type: steady
      base_mib: 64
)";
const std::vector<std::string> kGuests = {"swapper", "stale", "hostile", "crasher"};

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return predicate();
}

std::string seconds_text(long long seconds) {
  return std::to_string(seconds) + "s";
}

long long duration_seconds(const std::string& number, char unit) {
  const long long n = std::stoll(number);
  return unit == 'h' ? n * 3600 : unit == 'm' ? n * 60 : n;
}

}  // namespace

// The rule file the live test evaluates: every `for:` and every range selector divided by
// `scale` (at least 1 s). Thresholds, and so the staleness limit, stay as written.
std::string scale_rule_durations(const std::string& rules, int scale, int* replaced) {
  static const std::regex kFor(R"((\bfor: )(\d+)([smh])\b)");
  static const std::regex kRange(R"(\[(\d+)([smh])\])");
  std::string out;
  std::istringstream lines(rules);
  std::string line;
  *replaced = 0;
  auto scaled = [&](const std::string& number, const std::string& unit) {
    ++*replaced;
    return seconds_text(std::max(1LL, duration_seconds(number, unit[0]) / scale));
  };
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, kFor)) {
      line = m.prefix().str() + m[1].str() + scaled(m[2], m[3]) + m.suffix().str();
    }
    std::string rebuilt;
    auto begin = line.cbegin();
    for (std::sregex_iterator it(line.begin(), line.end(), kRange), end; it != end; ++it) {
      rebuilt.append(begin, line.cbegin() + it->position());
      rebuilt += "[" + scaled((*it)[1], (*it)[2]) + "]";
      begin = line.cbegin() + it->position() + it->length();
    }
    rebuilt.append(begin, line.cend());
    out += rebuilt + "\n";
  }
  return out;
}

TEST_CASE("the rule file of the live test divides every for and every range and nothing else") {
  int replaced = 0;
  const std::string rules =
      "      - alert: A\n"
      "        expr: rate(x[5m]) > 0.1 and increase(y[10m]) > 0 and time() - z > 30\n"
      "        for: 10m\n"
      "      - alert: B\n"
      "        expr: up == 0 and changes(w[1h]) > 0 and v[20s] > 0\n"
      "        for: 2m\n";
  CHECK(scale_rule_durations(rules, 20, &replaced) ==
        "      - alert: A\n"
        "        expr: rate(x[15s]) > 0.1 and increase(y[30s]) > 0 and time() - z > 30\n"
        "        for: 30s\n"
        "      - alert: B\n"
        "        expr: up == 0 and changes(w[180s]) > 0 and v[1s] > 0\n"
        "        for: 6s\n");
  CHECK(replaced == 6);
}

namespace {

// One alert of one webhook notification.
struct Delivered {
  std::string receiver;
  std::string status;  // firing or resolved
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  double seconds = 0;  // since the test started, when received
};

std::vector<Delivered> delivered_alerts(const std::vector<std::string>& bodies) {
  std::vector<Delivered> alerts;
  for (const std::string& body : bodies) {
    const auto notification = nlohmann::json::parse(body, nullptr, false);
    if (notification.is_discarded() || !notification.contains("alerts")) continue;
    for (const auto& alert : notification["alerts"]) {
      Delivered one;
      one.receiver = notification.value("receiver", "");
      one.status = alert.value("status", "");
      const nlohmann::json labels = alert.value("labels", nlohmann::json::object());
      const nlohmann::json annotations = alert.value("annotations", nlohmann::json::object());
      for (const auto& [key, value] : labels.items()) one.labels[key] = value.get<std::string>();
      for (const auto& [key, value] : annotations.items()) {
        one.annotations[key] = value.get<std::string>();
      }
      alerts.push_back(std::move(one));
    }
  }
  return alerts;
}

bool matches(const Delivered& alert, const std::string& status,
             const std::map<std::string, std::string>& labels) {
  if (alert.status != status) return false;
  for (const auto& [key, value] : labels) {
    auto it = alert.labels.find(key);
    if (it == alert.labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

// The example Alertmanager configuration, delivering to `url` (its receivers' paths kept below
// it) and grouping at once: group_wait and group_interval 1 s.
std::string test_alertmanager_config(const std::string& example, const std::string& url,
                                     int* replaced) {
  static const std::regex kWebhook(R"(http://127\.0\.0\.1:9095/xenballoon/)");
  static const std::regex kGroupTiming(R"(\b(group_wait|group_interval): \S+)");
  *replaced = 0;
  for (const std::regex* pattern : {&kWebhook, &kGroupTiming}) {
    *replaced += static_cast<int>(std::distance(
        std::sregex_iterator(example.begin(), example.end(), *pattern), std::sregex_iterator()));
  }
  const std::string pointed = std::regex_replace(example, kWebhook, url + "/");
  return std::regex_replace(pointed, kGroupTiming, "$1: 1s");
}

TEST_CASE("alerts fire on the simulated host and Alertmanager delivers them to a webhook") {
  for (const char* program : {"prometheus", "prometheus-alertmanager", "promtool"}) {
    const auto found = run_command({"sh", "-c", "command -v \"$0\" >/dev/null", program});
    if (found.exit_code != 0) FAIL(program << " is not installed (scripts/install-deps.sh test)");
  }
  const auto started = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };
  TempDir dir;
  const std::string run_dir = dir.path() + "/run";
  const std::string scenario_path = dir.path() + "/alerts-live.yaml";
  const std::string sim_log = dir.path() + "/xenballoon-sim.log";
  std::ofstream(scenario_path) << kScenario;

  WebhookReceiver webhook;

  // The simulated host without its own Prometheus and without the balancer (which would grow the
  // swapping guest to its static-max).
  const std::uint16_t base_port = free_port_run(1 + static_cast<int>(kGuests.size()));
  ChildProcess sim({XENBALLOON_SIM_BIN, "run", "--scenario", scenario_path, "--rundir", run_dir,
                    "--base-port", std::to_string(base_port), "--no-prometheus", "--no-balancer"},
                   {}, sim_log, sim_log);
  std::optional<SimState> state;
  REQUIRE(eventually(
      [&] {
        state = read_sim_state(run_dir + "/state", kGuests.size());
        return state.has_value() || !sim.running();
      },
      30s));
  INFO("xenballoon-sim log:\n" << slurp(sim_log));
  REQUIRE(state.has_value());
  const std::map<std::string, pid_t> children = state->processes;

  // xenballoon-sim workload refuses what it cannot do, and leaves no request behind.
  auto workload = [&](std::vector<std::string> arguments, const std::string& dir) {
    arguments.insert(arguments.begin(), {XENBALLOON_SIM_BIN, "workload", "--rundir", dir});
    return run_command(arguments);
  };
  const CommandResult unknown = workload({"nobody", "100"}, run_dir);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("no guest domain named or numbered \"nobody\"") != std::string::npos);
  CHECK(workload({"swapper", "lots"}, run_dir).exit_code == 2);
  CHECK(workload({"--hot-percent", "150", "swapper", "100"}, run_dir).exit_code == 2);
  CHECK(workload({"swapper"}, run_dir).exit_code == 2);
  CHECK(workload({"swapper", "100"}, dir.path() + "/no-simulator-here").exit_code == 1);
  CHECK(fs::is_empty(run_dir + "/control"));

  // The rules with short durations, checked by promtool before Prometheus loads them.
  int replaced = 0;
  const std::string rules = scale_rule_durations(
      slurp(XENBALLOON_SOURCE_DIR "/alerts/xenballoon.rules.yml"), kTimeScale, &replaced);
  CHECK(replaced > 20);
  const std::string rules_path = dir.path() + "/rules.yml";
  std::ofstream(rules_path) << rules;
  const CommandResult checked = run_command({"promtool", "check", "rules", rules_path});
  INFO(checked.out << checked.err);
  REQUIRE(checked.exit_code == 0);

  // Alertmanager: the example configuration, every receiver on the test's webhook.
  const std::uint16_t alertmanager_port = free_port();
  const std::string alertmanager_config = dir.path() + "/alertmanager.yml";
  int am_replaced = 0;
  std::ofstream(alertmanager_config) << test_alertmanager_config(
      slurp(XENBALLOON_SOURCE_DIR "/config/alertmanager/alertmanager.yml"), webhook.url(),
      &am_replaced);
  CHECK(am_replaced >= 3 + 4);  // three receivers; the route's and its children's timings
  const CommandResult am_checked = run_command({"amtool", "check-config", alertmanager_config});
  INFO(am_checked.out << am_checked.err);
  REQUIRE(am_checked.exit_code == 0);
  fs::create_directories(dir.path() + "/alertmanager");
  ChildProcess alertmanager({"prometheus-alertmanager", "--config.file=" + alertmanager_config,
                             "--storage.path=" + dir.path() + "/alertmanager",
                             "--web.listen-address=127.0.0.1:" + std::to_string(alertmanager_port),
                             "--cluster.listen-address="},
                            {}, dir.path() + "/alertmanager.log", dir.path() + "/alertmanager.log");

  // Prometheus: the exporter (the one source of guest statistics) and every agent too, each
  // second; rules evaluated each second, firing alerts re-sent each second.
  const std::uint16_t prometheus_port = free_port();
  std::ostringstream prometheus_yml;
  prometheus_yml << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                 << "rule_files: [" << rules_path << "]\n"
                 << "alerting:\n  alertmanagers:\n    - static_configs:\n"
                 << "        - targets: ['127.0.0.1:" << alertmanager_port << "']\n"
                 << "scrape_configs:\n"
                 << "  - job_name: xenballoon-exporter\n    static_configs:\n"
                 << "      - targets: ['127.0.0.1:" << base_port << "']\n"
                 << "  - job_name: xenballoond\n    static_configs:\n";
  for (std::size_t i = 0; i < kGuests.size(); ++i) {
    prometheus_yml << "      - targets: ['127.0.0.1:" << base_port + 1 + i << "']\n"
                   << "        labels: {domain: '" << kGuests[i] << "', domid: '"
                   << state->domids.at(kGuests[i]) << "'}\n";
  }
  const std::string prometheus_config = dir.path() + "/prometheus.yml";
  std::ofstream(prometheus_config) << prometheus_yml.str();
  fs::create_directories(dir.path() + "/prometheus");
  ChildProcess prometheus({"prometheus", "--config.file=" + prometheus_config,
                           "--storage.tsdb.path=" + dir.path() + "/prometheus",
                           "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port),
                           "--rules.alert.resend-delay=1s"},
                          {}, dir.path() + "/prometheus.log", dir.path() + "/prometheus.log");

  auto diagnostics = [&] {
    std::string text;
    for (const std::string& log :
         {sim_log, dir.path() + "/prometheus.log", dir.path() + "/alertmanager.log"}) {
      std::string body = slurp(log);
      if (body.size() > 2000) body = "..." + body.substr(body.size() - 2000);
      text += "--- " + fs::path(log).filename().string() + ":\n" + body;
    }
    text += "--- Prometheus alerts: " + http_get(prometheus_port, "/api/v1/alerts").body + "\n";
    text += "--- delivered:\n";
    for (const std::string& body : webhook.bodies()) text += body + "\n";
    return text;
  };
  auto wait_for = [&](const std::string& what, const std::function<bool()>& predicate,
                      std::chrono::milliseconds timeout) {
    if (eventually(predicate, timeout)) return true;
    FAIL_CHECK("timed out (" << elapsed() << " s): " << what << "\n" << diagnostics());
    return false;
  };
  // Notifications received so far, with the time each first appeared.
  std::vector<Delivered> seen;
  std::size_t bodies_read = 0;
  auto refresh = [&] {
    const std::vector<std::string> bodies = webhook.bodies();
    std::vector<std::string> fresh(bodies.begin() + static_cast<long>(bodies_read), bodies.end());
    bodies_read = bodies.size();
    for (Delivered& alert : delivered_alerts(fresh)) {
      alert.seconds = elapsed();
      seen.push_back(std::move(alert));
    }
  };
  auto first = [&](const std::string& status,
                   const std::map<std::string, std::string>& labels) -> const Delivered* {
    refresh();
    for (const Delivered& alert : seen) {
      if (matches(alert, status, labels)) return &alert;
    }
    return nullptr;
  };
  auto count = [&](const std::map<std::string, std::string>& labels) {
    refresh();
    std::size_t n = 0;
    for (const Delivered& alert : seen) n += matches(alert, alert.status, labels) ? 1 : 0;
    return n;
  };

  // Every target up (the exporter and three agents) and a few evaluations done: nothing of what
  // the test is about fires on a calm host.
  REQUIRE(wait_for(
      "Prometheus scraping every target",
      [&] {
        const std::string body = http_get(prometheus_port, "/api/v1/targets").body;
        std::size_t up = 0;
        for (auto at = body.find("\"health\":\"up\""); at != std::string::npos;
             at = body.find("\"health\":\"up\"", at + 1)) {
          ++up;
        }
        return up == 1 + kGuests.size();
      },
      30s));
  REQUIRE(http_get(alertmanager_port, "/-/ready").status == 200);
  std::this_thread::sleep_for(3s);
  const std::string calm_alerts = http_get(prometheus_port, "/api/v1/alerts").body;
  INFO("alerts on the calm host: " << calm_alerts);
  CHECK(calm_alerts.find("\"status\":\"success\"") != std::string::npos);
  for (const char* name :
       {"XenGuestSwapping", "XenballoonAgentStale", "XenballoonExporterRefusingData"}) {
    CHECK(calm_alerts.find(name) == std::string::npos);
  }
  const double provoked_at = elapsed();

  // (a) swap pressure: the swapper's workload becomes a 600 MiB service, 80 % hot.
  const CommandResult heavy = workload({"--hot-percent", "80", "swapper", "600"}, run_dir);
  INFO(heavy.out << heavy.err);
  REQUIRE(heavy.exit_code == 0);
  // (b) the stale guest's agent dies without a word.
  REQUIRE(::kill(children.at("xenballoond-stale"), SIGKILL) == 0);
  // (c) the hostile guest, through its own xenstore connection, publishes garbage.
  {
    XsHandle guest(run_dir + "/xenstore/domain/" + std::to_string(state->domids.at("hostile")) +
                   "/socket");
    REQUIRE(guest);
    const std::string home =
        "/local/domain/" + std::to_string(state->domids.at("hostile")) + "/data/xenballoon/";
    CHECK(guest.write(home + "uptime", "not a number") == 0);
    CHECK(guest.write(home + "meminfo", "MemTotal lots\nMemFree -1\n") == 0);
  }
  // (d) the crasher's service outgrows its memory and swap.
  const CommandResult crash = workload({"crasher", "1024"}, run_dir);
  INFO(crash.out << crash.err);
  REQUIRE(crash.exit_code == 0);

  const std::map<std::string, std::string> swapping = {{"alertname", "XenGuestSwapping"},
                                                       {"domain", "swapper"},
                                                       {"job", "xenballoon-exporter"},
                                                       {"severity", "warning"}};
  const std::map<std::string, std::string> refusing = {
      {"alertname", "XenballoonExporterRefusingData"}, {"job", "xenballoon-exporter"}};
  const std::map<std::string, std::string> oom = {{"alertname", "XenGuestOOMKill"},
                                                  {"domain", "crasher"},
                                                  {"job", "xenballoon-exporter"},
                                                  {"severity", "critical"}};
  const std::map<std::string, std::string> stale = {
      {"alertname", "XenballoonAgentStale"}, {"domain", "stale"}, {"job", "xenballoon-exporter"}};

  wait_for(
      "XenballoonExporterRefusingData delivered", [&] { return first("firing", refusing); }, 30s);
  if (wait_for(
          "XenGuestOOMKill delivered for crasher", [&] { return first("firing", oom); }, 30s)) {
    CHECK(first("firing", oom)->receiver == "xenballoon-pager");
  }
  CHECK(workload({"crasher", "64"}, run_dir).exit_code == 0);
  const bool swap_fired = wait_for(
      "XenGuestSwapping delivered for swapper", [&] { return first("firing", swapping); }, 60s);
  if (swap_fired) {
    const Delivered& fired = *first("firing", swapping);
    CHECK(fired.annotations.at("runbook_url") == "docs/alerts.md#xenguestswapping");
    CHECK(fired.annotations.at("summary") ==
          "Guest swapper swaps while ballooned below its static-max");
    CHECK(fired.receiver == "xenballoon-team");
  }
  // The pressure ends: back to a 64 MiB service; the swapped pages come back and swap-in stops.
  const CommandResult calm = workload({"swapper", "64"}, run_dir);
  INFO(calm.out << calm.err);
  CHECK(calm.exit_code == 0);
  CHECK(fs::is_empty(run_dir + "/control"));  // taken
  const double calmed_at = elapsed();
  wait_for(
      "XenballoonAgentStale delivered for stale", [&] { return first("firing", stale); }, 60s);
  wait_for(
      "XenGuestSwapping resolved", [&] { return first("resolved", swapping); }, 60s);

  // Nothing fired twice for one guest although its agent is scraped too, and nothing fired for
  // the wrong guest.
  CHECK(count({{"alertname", "XenGuestSwapping"}, {"job", "xenballoond"}}) == 0);
  CHECK(count({{"alertname", "XenballoonAgentStale"}, {"job", "xenballoond"}}) == 0);
  for (const char* guest : {"stale", "hostile", "crasher"}) {
    INFO(guest);
    CHECK(count({{"alertname", "XenGuestSwapping"}, {"domain", guest}}) == 0);
  }
  for (const char* guest : {"swapper", "hostile", "crasher"}) {
    INFO(guest);
    CHECK(count({{"alertname", "XenballoonAgentStale"}, {"domain", guest}}) == 0);
  }
  if (const Delivered* fired = first("firing", stale)) {
    // The agent published every 5 s: the limit is 30 s without a change, then for: 2m / 20.
    CHECK(fired->seconds - provoked_at > 30 - 5);
  }
  if (const Delivered* resolved = first("resolved", swapping)) {
    CHECK(resolved->seconds > calmed_at);
    CHECK(resolved->receiver == "xenballoon-team");
  }
  for (const auto* labels : {&refusing, &stale}) {
    if (const Delivered* fired = first("firing", *labels)) {
      CHECK(fired->receiver == "xenballoon-team");
    }
  }
  auto after = [&](const std::string& status, const std::map<std::string, std::string>& labels,
                   double since) {
    const Delivered* alert = first(status, labels);
    return alert ? std::to_string(static_cast<int>(alert->seconds - since)) + " s" : "never";
  };
  WARN("seconds from the provocation: refusals "
       << after("firing", refusing, provoked_at) << ", OOM kill "
       << after("firing", oom, provoked_at) << ", swap " << after("firing", swapping, provoked_at)
       << ", stale " << after("firing", stale, provoked_at) << "; swap resolved "
       << after("resolved", swapping, calmed_at) << " after the pressure ended; whole test "
       << static_cast<int>(elapsed()) << " s");

  // Everything this test started goes, by PID; the simulator reports the agent it lost.
  CHECK(prometheus.stop(SIGTERM, 10s) >= 0);
  CHECK(alertmanager.stop(SIGTERM, 10s) >= 0);
  const int status = sim.stop(SIGTERM, 30s);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);  // a child died while the host ran
  CHECK(slurp(sim_log).find("xenballoond-stale (pid " +
                            std::to_string(children.at("xenballoond-stale")) +
                            ") was killed by signal 9") != std::string::npos);
  for (const auto& [name, pid] : children) {
    INFO(name << " pid " << pid);
    CHECK_FALSE(pid_alive(pid));
  }
}
