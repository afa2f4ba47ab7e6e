// xenballoon-soak: the soak benchmark (scripts/soak.sh runs it; never ctest). Each run keeps a
// daemon busy for minutes while sampling its RSS, peak RSS, open descriptors and CPU time, and
// counts what must not happen (failed scrapes, errors):
//   exporter  xenballoon-exporter over 1000 guests in xenstored-lite that are destroyed and
//             created continuously (tens a second, each with its agent's full publication),
//             every guest publishing every 5 s, while 8 scrapers GET /metrics in a loop and
//             check each answer (HTTP 200, a well-formed exposition, a plausible guest count);
//   agent     xenballoond selfballooning the simulated guest of xenballoon-sim, whose workload
//             changes every 30 s (xenballoon-sim workload);
//   balancer  xenballoon-balancer stepping every second over guests that are created, loaded
//             (a need that rises and falls) and destroyed on a stand-in host.
// Prints a table per run (docs/soak.md) and appends the samples to a CSV; exits 1 when a run
// is not flat or counted a failure, 2 on a usage error.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "churn_host.h"
#include "guest_publication.h"
#include "http_get.h"
#include "process.h"
#include "sampler.h"
#include "scrape_check.h"
#include "sim_host.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/dom0/exposition_reader.h"
#include "xenballoon/publish/layout.h"
#include "xenballoon/util/parse.h"

using namespace xenballoon;
using namespace xenballoon::bench;
using namespace xenballoon::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint64_t kMib = 1024;  // KiB

const char* const kUsage = R"(Usage: xenballoon-soak [options] [exporter|agent|balancer]...

The soak benchmark: runs each named soak (default all three, one after another), sampling the
daemon's RSS, peak RSS, open descriptors and CPU time, and counting failed scrapes and errors.
Prints a table per run; exits 1 when a run is not flat or counted a failure.

Options:
      --minutes M        length of each run (default 10; the first minute is a warm-up)
      --csv FILE         append every sample to FILE (run,process,elapsed_s,rss_kib,hwm_kib,fds,cpu_s)
      --together         run the soaks at the same time instead of one after another
      --guests N         exporter soak: domains kept in xenstore (default 1000)
      --churn R          exporter soak: domains destroyed and created per second (default 20)
      --scrapers N       exporter soak: concurrent scrapers of /metrics (default 8)
  -h, --help             this text
)";

struct Options {
  double minutes = 10;
  std::string csv;
  bool together = false;
  unsigned guests = 1000;
  double churn = 20;
  unsigned scrapers = 8;
};

// Under --together the soaks run on threads: one prints its report at a time, and one sets up
// xenstore connections at a time (libxenstore's handles are opened through XENSTORED_PATH).
std::mutex g_print;
std::mutex g_setup;

std::string log_of(const std::string& path) {
  return slurp(path);
}

// Lines of a daemon's log at `level` (text or logfmt format).
std::uint64_t log_lines(const std::string& path, const std::string& level) {
  std::istringstream in(slurp(path));
  std::uint64_t n = 0;
  const std::string logfmt = level == "warning" ? "level=warn " : "level=" + level + " ";
  for (std::string line; std::getline(in, line);) {
    n += line.find("[" + level + "]:") != std::string::npos ||
         line.find(logfmt) != std::string::npos;
  }
  return n;
}

// The first line of a daemon's log at error level, for the report.
std::string first_error_line(const std::string& path) {
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) {
    if (line.find("[error]:") != std::string::npos ||
        line.find("level=error ") != std::string::npos)
      return line.substr(0, 200);
  }
  return "";
}

bool wait_for(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return predicate();
}

// Scrapes of one endpoint by the sampling thread, once per sample.
struct EndpointScrapes {
  std::uint64_t done = 0, failed = 0;
  std::string last_body;
  void scrape(std::uint16_t port) {
    auto r = http_get(port, "/metrics");
    ++done;
    if (r.status != 200 || !exposition_problem(r.body).empty()) {
      ++failed;
    } else {
      last_body = std::move(r.body);
    }
  }
};

// ---- exporter ----

struct ScrapeCounts {
  std::atomic<std::uint64_t> done{0}, connection{0}, status{0}, malformed{0}, implausible{0};
  std::atomic<std::uint64_t> bytes{0};
  std::mutex mutex;
  std::string first_failure;  // under mutex
  void fail(std::atomic<std::uint64_t>& kind, const std::string& why) {
    ++kind;
    std::lock_guard lock(mutex);
    if (first_failure.empty()) first_failure = why;
  }
  std::uint64_t failed() const { return connection + status + malformed + implausible; }
};

// One scrape checked: 200, well-formed, a guest count within a tenth of `guests` both in
// xenballoon_exporter_guests and in the guests the monitor's reader finds in it.
void checked_scrape(std::uint16_t port, unsigned guests, ScrapeCounts& counts) {
  auto r = http_get(port, "/metrics");
  ++counts.done;
  if (r.status == 0) return counts.fail(counts.connection, "no answer");
  if (r.status != 200) return counts.fail(counts.status, "HTTP " + std::to_string(r.status));
  counts.bytes += r.body.size();
  if (auto problem = exposition_problem(r.body); !problem.empty()) {
    return counts.fail(counts.malformed, problem);
  }
  const double low = guests * 0.9, high = guests * 1.1;
  const double gauge = sample_value(r.body, "xenballoon_exporter_guests");
  const auto guests_read = dom0::parse_exposition(r.body).guests;
  const double read = static_cast<double>(guests_read.size());
  if (gauge < low || gauge > high || read < low || read > high) {
    char why[160];
    std::snprintf(why, sizeof why, "%.0f guests (gauge), %.0f read back, domids %u to %u", gauge,
                  read, guests_read.empty() ? 0 : guests_read.front().domid,
                  guests_read.empty() ? 0 : guests_read.back().domid);
    return counts.fail(counts.implausible, why);
  }
}

bool exporter_soak(const Options& o, const SoakTiming& timing) {
  TempDir dir;
  Xenstored xenstored;
  ChurnOptions churn;
  churn.guests = o.guests;
  churn.churn_per_second = o.churn;
  churn.workers = 16;  // each a connection waiting on its round trips: more keep up the rates
  std::unique_lock setup(g_setup);
  ChurnHost host(xenstored.socket(), churn);
  setup.unlock();

  const auto port = free_port();
  const std::string log = dir.path() + "/exporter.log";
  ChildProcess exporter(
      {XENBALLOON_EXPORTER_BIN, "--web.listen-address", "127.0.0.1:" + std::to_string(port),
       "--log.level", "warning", "--log.format", "logfmt"},
      xenstored.env_for(0), log, log);
  if (!wait_for(
          [&] {
            return sample_value(http_get(port, "/metrics").body, "xenballoon_exporter_guests") ==
                   o.guests;
          },
          120s)) {
    std::printf("exporter soak: the exporter never showed %u guests; its log:\n%s\n", o.guests,
                log_of(log).c_str());
    return false;
  }
  host.start();
  ScrapeCounts scrapes;
  std::atomic<bool> scraping{true};
  std::vector<std::thread> scrapers;
  for (unsigned i = 0; i < o.scrapers; ++i) {
    scrapers.emplace_back([&] {
      // The scrapers take the CPU that is left (nice 19 for this thread): on a loaded machine
      // the churn and the publications the stand-in owes come first.
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
      while (scraping) checked_scrape(port, o.guests, scrapes);
    });
  }
  Soak soak("exporter", timing);
  soak.watch("xenballoon-exporter", exporter.pid());
  soak.watch("xenstored-lite", xenstored.process().pid(), false);
  const std::string load_start = load_average();
  soak.run(nullptr);
  scraping = false;
  for (auto& t : scrapers) t.join();
  host.stop();
  const auto c = host.counts();
  // With the churn stopped, the exporter must come to show exactly the domains in xenstore.
  const auto settle_start = Clock::now();
  double shown = -1;
  wait_for(
      [&] {
        shown = sample_value(http_get(port, "/metrics").body, "xenballoon_exporter_guests");
        return shown == static_cast<double>(c.live);
      },
      60s);
  const double settle_seconds = std::chrono::duration<double>(Clock::now() - settle_start).count();
  const auto last = http_get(port, "/metrics");

  std::lock_guard print(g_print);
  std::printf(
      "\n== exporter soak: %u guests, %.0f destroyed and created per second, %u "
      "scrapers, %.1f min ==\n",
      o.guests, o.churn, o.scrapers, timing.duration.count() / 60.0);
  soak.count("scrapes", scrapes.done, false);
  soak.count("failed scrapes: no answer", scrapes.connection, true);
  soak.count("failed scrapes: not HTTP 200", scrapes.status, true);
  soak.count("failed scrapes: malformed exposition", scrapes.malformed, true);
  soak.count("failed scrapes: implausible guest count", scrapes.implausible, true);
  soak.count("domains created (" + std::to_string(o.guests) + " at the start)", c.created, false);
  soak.count("domains destroyed", c.destroyed, false);
  soak.count("publications", c.publications, false);
  soak.count("stand-in toolstack errors", c.errors, true);
  soak.count("orphaned domains in xenstore", host.orphans(), true);
  soak.count(
      "exporter parse errors (xenballoon_exporter_parse_errors_total)",
      static_cast<std::uint64_t>(family_sum(last.body, "xenballoon_exporter_parse_errors_total")),
      true);
  soak.count("guests shown after the churn stopped, off by",
             static_cast<std::uint64_t>(std::fabs(shown - static_cast<double>(c.live))), true);
  soak.count("xenstored-lite clients that lost watch events (did not read)",
             log_lines(xenstored.log_path(), "warning"), false);
  soak.count("exporter log lines at error level", log_lines(log, "error"), true);
  soak.count("exporter log lines at warning level", log_lines(log, "warning"), false);
  const double seconds = static_cast<double>(timing.duration.count());
  char line[300];
  std::snprintf(
      line, sizeof line,
      "%.1f scrapes/s, %.2f MiB per scrape, %.1f domains replaced/s, %.0f publications/s; "
      "settled in %.1f s after the churn",
      static_cast<double>(scrapes.done) / seconds,
      scrapes.done
          ? static_cast<double>(scrapes.bytes) / static_cast<double>(scrapes.done) / (1 << 20)
          : 0.0,
      static_cast<double>(c.destroyed) / seconds, static_cast<double>(c.publications) / seconds,
      settle_seconds);
  soak.note(line);
  soak.note("load " + load_start + " at the start, " + load_average() + " at the end");

  {
    std::lock_guard lock(scrapes.mutex);
    if (!scrapes.first_failure.empty()) soak.note("first failed scrape: " + scrapes.first_failure);
  }
  if (!host.first_error().empty()) soak.note("first toolstack error: " + host.first_error());
  if (auto e = first_error_line(log); !e.empty()) soak.note("first error logged: " + e);
  const bool pass = soak.report(stdout);
  if (!o.csv.empty()) soak.append_csv(o.csv);
  return pass;
}

// ---- agent ----

bool agent_soak(const Options& o, const SoakTiming& timing) {
  TempDir dir;
  const std::string rundir = dir.path() + "/sim";
  const auto base = free_port_run(3);
  const std::string sim_log = dir.path() + "/sim.log";
  ChildProcess sim({XENBALLOON_SIM_BIN, "run", "--scenario", XENBALLOON_SOAK_DIR "/agent.yaml",
                    "--rundir", rundir, "--no-prometheus", "--no-balancer", "--base-port",
                    std::to_string(base), "--log.level", "warning"},
                   {}, sim_log, sim_log);
  std::optional<SimState> state;
  wait_for([&] { return (state = read_sim_state(rundir + "/state", 1)).has_value(); }, 120s);
  if (!state || !state->processes.count("xenballoond-soak")) {
    std::printf("agent soak: the simulator did not start; its log:\n%s\n", log_of(sim_log).c_str());
    return false;
  }
  const pid_t agent = state->processes.at("xenballoond-soak");
  const std::uint16_t agent_port = static_cast<std::uint16_t>(base + 1);
  const std::string agent_log = rundir + "/logs/xenballoond-soak.log";

  // The workload changes every 30 s through these sizes (MiB): up, down, beyond what fits (the
  // guest swaps), back to little.
  const std::uint64_t sizes[] = {512, 1280, 384, 1024, 1792, 256, 768, 1536};
  std::size_t changes = 0;
  std::uint64_t workload_failures = 0;
  std::set<double> targets;
  EndpointScrapes scrapes;
  double next_change = 0;
  Soak soak("agent", timing);
  soak.watch("xenballoond", agent);
  soak.watch("xenballoon-sim", sim.pid(), false);
  const std::string load_start = load_average();
  std::string first_workload_error;
  soak.run([&](double elapsed) {
    scrapes.scrape(agent_port);
    if (double t = sample_value(scrapes.last_body, "xenballoon_balloon_target_bytes"); t > 0) {
      targets.insert(t);
    }
    if (elapsed < next_change) return;
    next_change = elapsed + 30;
    const auto size = sizes[changes++ % std::size(sizes)];
    auto r = run_command(
        {XENBALLOON_SIM_BIN, "workload", "--rundir", rundir, "soak", std::to_string(size)}, {},
        20s);
    if (r.exit_code != 0) {
      ++workload_failures;
      if (first_workload_error.empty()) first_workload_error = r.err;
    }
  });
  const auto last = http_get(agent_port, "/metrics");
  const bool sim_running = sim.running();

  std::lock_guard print(g_print);
  std::printf(
      "\n== agent soak: xenballoond selfballooning a simulated guest, its workload changed "
      "every 30 s, %.1f min ==\n",
      timing.duration.count() / 60.0);
  soak.count("scrapes of the agent's /metrics", scrapes.done, false);
  soak.count("failed scrapes", scrapes.failed, true);
  soak.count("workload changes", changes, false);
  soak.count("workload changes refused", workload_failures, true);
  soak.count("distinct balloon targets seen", targets.size(), false);
  soak.count("agent never moved its balloon target (fewer than 2 targets)", targets.size() < 2,
             true);
  soak.count(
      "ticks (xenballoon_tick_duration_seconds_count)",
      static_cast<std::uint64_t>(family_sum(last.body, "xenballoon_tick_duration_seconds_count")),
      false);
  soak.count("xenstore errors (xenballoon_xenstore_errors_total)",
             static_cast<std::uint64_t>(family_sum(last.body, "xenballoon_xenstore_errors_total")),
             true);
  soak.count(
      "balloon write errors (xenballoon_balloon_write_errors_total)",
      static_cast<std::uint64_t>(family_sum(last.body, "xenballoon_balloon_write_errors_total")),
      true);
  soak.count("agent log lines at error level", log_lines(agent_log, "error"), true);
  soak.count("agent log lines at warning level", log_lines(agent_log, "warning"), false);
  soak.count("simulator stopped during the run", sim_running ? 0 : 1, true);
  soak.note("load " + load_start + " at the start, " + load_average() + " at the end");
  if (!first_workload_error.empty()) soak.note("first refused change: " + first_workload_error);
  if (auto e = first_error_line(agent_log); !e.empty()) soak.note("first error logged: " + e);
  const bool pass = soak.report(stdout);
  if (!o.csv.empty()) soak.append_csv(o.csv);
  return pass;
}

// ---- balancer ----

// What a loaded guest's agent publishes: the capture guest's figures (stats_for), holding
// `target_kib` (the stand-in follows the balancer at once) and needing a Committed_AS that rises
// and falls with a 2-minute period between 200 and 1500 MiB, each guest in its own phase; short
// of memory it stalls a fifth of the time (PSI some).
publish::GuestStats loaded_guest(unsigned domid, std::uint64_t round, double age,
                                 std::uint64_t target_kib) {
  const double phase = 2 * M_PI * (age / 120.0) + domid;
  const auto committed =
      static_cast<std::uint64_t>((200 + 1300 * (0.5 + 0.5 * std::sin(phase))) * kMib);
  publish::GuestStats s = stats_for(domid, round);
  s.target_kib = target_kib;
  s.floor_kib = 128 * kMib;
  s.current_kib = target_kib;
  const std::uint64_t free = target_kib - std::min(committed, target_kib);
  for (auto [field, kib] :
       {std::pair{"MemTotal", target_kib}, std::pair{"MemFree", free},
        std::pair{"MemAvailable", free}, std::pair{"Committed_AS", committed}}) {
    s.meminfo_kib.known[*publish::meminfo_index(field)] = kib;
  }
  const double stall = committed > target_kib ? 20 : 0;
  s.psi_some = publish::Psi{stall, stall / 2, stall / 4, round * 100000};
  return s;
}

bool balancer_soak(const Options& o, const SoakTiming& timing) {
  constexpr unsigned kGuests = 24;
  constexpr std::uint64_t kDom0Kib = 512 * kMib, kReserveKib = 256 * kMib;
  TempDir dir;
  Xenstored xenstored;
  ChurnOptions churn;
  churn.guests = kGuests;
  churn.churn_per_second = 0.5;  // each guest lives about 48 s, some 48 balancer steps
  churn.publish_interval = 1s;
  churn.target_kib = 1024 * kMib;
  churn.static_max_kib = 2048 * kMib;
  churn.host_memory_file = dir.path() + "/host-memory";
  // Room for every guest at its boot size: growing one means shrinking another first.
  churn.host_total_kib = kDom0Kib + kReserveKib + kGuests * churn.target_kib;
  churn.dom0_kib = kDom0Kib;
  churn.stats = loaded_guest;
  churn.workers = 1;
  std::unique_lock setup(g_setup);
  ChurnHost host(xenstored.socket(), churn);
  setup.unlock();

  const auto port = free_port();
  const std::string config = dir.path() + "/balancer.yaml";
  std::ofstream(config) << "interval_seconds: 1\n"
                           "host:\n"
                           "  reserve_mib: 256\n"
                           "  dom0_mib: 512\n"
                           "stuck_after_seconds: 30\n"
                           "web:\n"
                           "  listen_address: \"127.0.0.1:"
                        << port << "\"\n";
  const std::string log = dir.path() + "/balancer.log";
  ChildProcess balancer({XENBALLOON_BALANCER_BIN, "--config", config, "--host-memory-file",
                         churn.host_memory_file, "--target-setter", "xenstore", "--pidfile", "",
                         "--log.level", "warning", "--log.format", "logfmt"},
                        xenstored.env_for(0), log, log);
  if (!wait_for([&] { return http_get(port, "/metrics").status == 200; }, 60s)) {
    std::printf("balancer soak: the balancer did not start; its log:\n%s\n", log_of(log).c_str());
    return false;
  }
  host.start();
  EndpointScrapes scrapes;
  Soak soak("balancer", timing);
  soak.watch("xenballoon-balancer", balancer.pid());
  const std::string load_start = load_average();
  soak.run([&](double) { scrapes.scrape(port); });
  host.stop();
  const auto c = host.counts();
  const auto last = http_get(port, "/metrics");
  const auto& body = last.body;

  std::lock_guard print(g_print);
  std::printf(
      "\n== balancer soak: %u guests created, loaded and destroyed (one every 2 s), a "
      "step every second, %.1f min ==\n",
      kGuests, timing.duration.count() / 60.0);
  soak.count("scrapes of the balancer's /metrics", scrapes.done, false);
  soak.count("failed scrapes", scrapes.failed, true);
  soak.count("domains created (" + std::to_string(kGuests) + " at the start)", c.created, false);
  soak.count("domains destroyed", c.destroyed, false);
  soak.count("steps (xenballoon_balancer_steps_total)",
             static_cast<std::uint64_t>(family_sum(body, "xenballoon_balancer_steps_total")),
             false);
  soak.count(
      "targets set (xenballoon_balancer_target_writes_total)",
      static_cast<std::uint64_t>(family_sum(body, "xenballoon_balancer_target_writes_total")),
      false);
  soak.count(
      "targets not set (_target_write_errors_total; stale under churn)",
      static_cast<std::uint64_t>(family_sum(body, "xenballoon_balancer_target_write_errors_total")),
      false);
  soak.count("guests in the last step (xenballoon_balancer_guests)",
             static_cast<std::uint64_t>(sample_value(body, "xenballoon_balancer_guests")), false);
  soak.count("stand-in toolstack errors", c.errors, true);
  soak.count("orphaned domains in xenstore (targets written after a destroy)", host.orphans(),
             true);
  soak.count("balancer log lines at error level", log_lines(log, "error"), true);
  soak.count("balancer log lines at warning level", log_lines(log, "warning"), false);
  soak.note("load " + load_start + " at the start, " + load_average() + " at the end");
  if (!host.first_error().empty()) soak.note("first toolstack error: " + host.first_error());
  if (auto e = first_error_line(log); !e.empty()) soak.note("first error logged: " + e);
  const bool pass = soak.report(stdout);
  if (!o.csv.empty()) soak.append_csv(o.csv);
  return pass;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> runs;
  daemon::Flags flags(argv[0], kUsage);
  flags.operands(&runs);
  // A number option within [low, high]; `whole` refuses fractions.
  auto number = [&](const char* name, double low, double high, bool whole, auto* out) {
    flags.option(name, 0, [=](std::string_view text) -> Result<void> {
      auto v = whole ? std::optional<double>(parse_u64(text)) : parse_double(text);
      if (!v || *v < low || *v > high) {
        char range[64];
        std::snprintf(range, sizeof range, "%g to %g", low, high);
        return Error{"--" + std::string(name) + ": expected " + range + ", got \"" +
                     std::string(text) + "\""};
      }
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(*v);
      return {};
    });
  };
  number("minutes", 0.2, 1440, false, &o.minutes);
  number("guests", 1, 30000, true, &o.guests);
  number("churn", 0, 1000, false, &o.churn);
  number("scrapers", 1, 256, true, &o.scrapers);
  flags.option("csv", 0, &o.csv);
  flags.flag("together", 0, &o.together);
  if (auto code = flags.parse(argc, argv)) return *code;
  const std::map<std::string, std::function<bool(const Options&, const SoakTiming&)>> soaks = {
      {"exporter", exporter_soak}, {"agent", agent_soak}, {"balancer", balancer_soak}};
  if (runs.empty()) runs = {"exporter", "agent", "balancer"};
  for (const auto& r : runs) {
    if (!soaks.count(r)) {
      std::fprintf(stderr, "%s: unknown soak \"%s\" (exporter, agent or balancer)\n", argv[0],
                   r.c_str());
      return 2;
    }
  }
  const SoakTiming timing = soak_timing(o.minutes);
  std::printf(
      "soak: %s for %.1f min each%s on %u cores, load %s\n",
      [&] {
        std::string names;
        for (const auto& r : runs) names += (names.empty() ? "" : ", ") + r;
        return names;
      }()
          .c_str(),
      o.minutes, o.together ? ", together," : "", std::thread::hardware_concurrency(),
      load_average().c_str());
  // The soaks run under nice 10 with their stand-ins: on a machine busy with other work the
  // daemons and the stand-in toolstack starve, and the exporter falls seconds behind the churn
  // (docs/soak.md). Say so before the figures, rather than judge a daemon by the machine.
  if (std::atof(load_average().c_str()) > std::thread::hardware_concurrency()) {
    std::printf(
        "soak: warning: the load average is above the number of cores; the figures measure the "
        "machine as much as the daemons (run on a quiet machine)\n");
  }
  std::fflush(stdout);
  bool pass = true;
  if (o.together) {
    std::vector<std::thread> threads;
    std::vector<char> results(runs.size(), 0);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = soaks.at(runs[i])(o, timing); });
    }
    for (auto& t : threads) t.join();
    for (char r : results) pass = pass && r;
  } else {
    for (const auto& r : runs) pass = soaks.at(r)(o, timing) && pass;
  }
  std::printf("\nsoak: %s\n", pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}
