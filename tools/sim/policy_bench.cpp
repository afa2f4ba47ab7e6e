// xenballoon-policy-bench: the balloon policies side by side on simulated guests, in virtual
// time. The model (xenballoon::sim) and the agent's own decide() run in one process, one decision
// per guest per virtual second, so a 24-hour scenario takes seconds and replays byte for byte.
// What is measured and how to read it: docs/simulation.md, results: bench/policy_bench.md.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xenballoon/config/agent_config.h"
#include "xenballoon/policy/policy.h"
#include "xenballoon/sim/simulation.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/util/spawn.h"

extern char** environ;

namespace {

using namespace xenballoon;
using namespace xenballoon::sim;

#ifndef XENBALLOON_SIM_SCENARIO_DIR
#define XENBALLOON_SIM_SCENARIO_DIR "tools/sim/scenarios"
#endif

constexpr std::string_view kBenchmarkScenarios[] = {"steady", "diurnal", "spike", "leak", "batch"};
// The oracle looks this far ahead; long enough for the balloon (256 MiB/s) to be in place.
constexpr std::int64_t kOracleLookaheadSeconds = 30;
constexpr std::uint64_t kOracleMarginKib = 16 * kKibPerMib;
constexpr std::int64_t kPlotSampleSeconds = 60;
// drivers/xen/xen-selfballoon.c: selfballoon_interval defaults to 5 s.
constexpr std::int64_t kKernelSelfballoonIntervalSeconds = 5;
constexpr double kKibPerGib = 1024.0 * 1024.0;
constexpr double kSecondsPerHour = 3600;

enum class BenchPolicy { kNone, kClassic, kKernel, kPressure, kOracle };
constexpr BenchPolicy kPolicies[] = {BenchPolicy::kNone, BenchPolicy::kClassic,
                                     BenchPolicy::kKernel, BenchPolicy::kPressure,
                                     BenchPolicy::kOracle};

std::string_view policy_name(BenchPolicy policy) {
  switch (policy) {
    case BenchPolicy::kNone:
      return "none";
    case BenchPolicy::kClassic:
      return "classic";
    case BenchPolicy::kKernel:
      return "kernel";
    case BenchPolicy::kPressure:
      return "pressure";
    case BenchPolicy::kOracle:
      return "oracle";
  }
  return "unknown";
}

struct Options {
  std::vector<std::string> scenario_paths;
  std::uint64_t seed = 0;
  std::string csv_path;
  std::string plot_path;
  std::optional<double> hours;
};

// Knows the workload's future: a copy of the guest's workload runs kOracleLookaheadSeconds ahead
// and a monotonic queue keeps the largest allocation needed from the previous second to the end
// of that window. Not thread-safe.
class Oracle {
 public:
  explicit Oracle(const GuestModel& guest) : ahead_(guest.workload()) {}

  std::uint64_t target_kib(const GuestModel& guest, std::int64_t now) {
    while (ahead_now_ <= now + kOracleLookaheadSeconds) {
      ahead_.advance_to(ahead_now_);
      const std::uint64_t need = guest.allocation_needed_kib(kib_from_pages(ahead_.demand_pages()));
      while (!window_.empty() && window_.back().second <= need) window_.pop_back();
      window_.emplace_back(ahead_now_, need);
      ++ahead_now_;
    }
    // The guest still holds the previous second's demand while the balloon moves.
    while (window_.front().first < now - 1) window_.pop_front();
    return std::min(window_.front().second + kOracleMarginKib, guest.dom0_target_kib());
  }

 private:
  Workload ahead_;
  std::int64_t ahead_now_ = 0;
  std::deque<std::pair<std::int64_t, std::uint64_t>> window_;
};

// What the agent would read from /proc, sysfs and xenstore, taken from the model directly (the
// same numbers the files show, without printing and parsing them 86400 times a guest).
PolicyInputs inputs_from(const GuestModel& guest, std::int64_t now) {
  const GuestSnapshot s = guest.snapshot();
  PolicyInputs in;
  in.now = std::chrono::seconds(now);
  in.committed_as_kib = s.committed_as_kib;
  in.memtotal_kib = s.mem_total_kib;
  in.balloon_target_kib = s.balloon_target_kib;
  in.balloon_current_kib = s.balloon_current_kib;
  in.dom0_target_kib = guest.dom0_target_kib();
  in.static_max_kib = guest.static_max_kib();
  in.psi_some_avg10 = psi_average_percent(s.psi_some.avg10);
  in.pswpin = s.vmstat.pswpin;
  in.pgmajfault = s.vmstat.pgmajfault;
  return in;
}

// One guest's policy: decide() with the agent's default settings for that kind, every agent
// interval (the kernel driver's own interval for `kernel`), or the oracle every second.
class Controller {
 public:
  Controller(BenchPolicy policy, const GuestModel& guest) : policy_(policy) {
    settings_ = policy_settings(AgentConfig{});
    switch (policy) {
      case BenchPolicy::kNone:
        settings_.kind = PolicyKind::kNone;
        break;
      case BenchPolicy::kClassic:
        settings_.kind = PolicyKind::kClassic;
        break;
      case BenchPolicy::kKernel:
        settings_.kind = PolicyKind::kKernel;
        interval_seconds_ = kKernelSelfballoonIntervalSeconds;
        break;
      case BenchPolicy::kPressure:
        settings_.kind = PolicyKind::kPressure;
        break;
      case BenchPolicy::kOracle:
        oracle_.emplace(guest);
        break;
    }
  }

  void tick(GuestModel& guest, std::int64_t now) {
    if (now % interval_seconds_ != 0) return;
    if (oracle_) {
      guest.set_target_kib(oracle_->target_kib(guest, now));
      return;
    }
    const Decision decision = decide(inputs_from(guest, now), state_, settings_);
    if (decision.target_kib) guest.set_target_kib(*decision.target_kib);
  }

  BenchPolicy policy() const { return policy_; }

 private:
  BenchPolicy policy_;
  std::int64_t interval_seconds_ = static_cast<std::int64_t>(AgentConfig{}.interval_seconds);
  PolicySettings settings_;
  PolicyState state_;
  std::optional<Oracle> oracle_;
};

struct GuestResult {
  std::string name;
  std::uint64_t static_max_kib = 0;
  std::uint64_t seconds = 0;
  std::uint64_t allocation_kib_seconds = 0;  // sum over seconds of the allocation
  std::uint64_t swapins = 0;
  std::uint64_t swapouts = 0;
  std::uint64_t majfaults = 0;
  std::uint64_t psi_some_ns = 0;
  std::uint64_t psi_full_ns = 0;
  std::uint64_t oom_kills = 0;

  double mean_allocation_kib() const {
    return seconds == 0
               ? 0
               : static_cast<double>(allocation_kib_seconds) / static_cast<double>(seconds);
  }
};

struct SeriesPoint {
  double hours = 0;
  double needed_mib = 0;
  double target_mib = 0;
  double allocation_mib = 0;
};

struct RunResult {
  std::string scenario;
  BenchPolicy policy = BenchPolicy::kNone;
  std::vector<GuestResult> guests;
  std::string plotted_guest;
  double plotted_static_max_mib = 0;
  std::vector<SeriesPoint> series;  // the scenario's first guest

  double allocation_percent() const {
    double allocation = 0;
    double static_max = 0;
    for (const GuestResult& guest : guests) {
      allocation += guest.mean_allocation_kib();
      static_max += static_cast<double>(guest.static_max_kib);
    }
    return static_max == 0 ? 0 : 100.0 * allocation / static_max;
  }
  double reclaimed_mean_mib() const {
    double reclaimed = 0;
    for (const GuestResult& guest : guests) {
      reclaimed += static_cast<double>(guest.static_max_kib) - guest.mean_allocation_kib();
    }
    return reclaimed / kKibPerMib;
  }
  double reclaimed_gib_hours() const {
    double kib_seconds = 0;
    for (const GuestResult& guest : guests) {
      kib_seconds += static_cast<double>(guest.static_max_kib * guest.seconds) -
                     static_cast<double>(guest.allocation_kib_seconds);
    }
    return kib_seconds / kKibPerGib / kSecondsPerHour;
  }
  template <typename Field>
  std::uint64_t total(Field field) const {
    std::uint64_t sum = 0;
    for (const GuestResult& guest : guests) sum += guest.*field;
    return sum;
  }
};

Result<RunResult> run(const Scenario& scenario, BenchPolicy policy) {
  auto created = Simulation::create(scenario);
  if (!created) return created.error();
  Simulation& simulation = *created;
  std::vector<GuestModel>& guests = simulation.guests();

  std::vector<Controller> controllers;
  std::vector<GuestSnapshot> at_start;
  RunResult result;
  result.scenario = scenario.name;
  result.policy = policy;
  for (const GuestModel& guest : guests) {
    controllers.emplace_back(policy, guest);
    at_start.push_back(guest.snapshot());
    result.guests.push_back(GuestResult{guest.spec().name, guest.static_max_kib()});
  }
  if (!guests.empty()) {
    result.plotted_guest = guests.front().spec().name;
    result.plotted_static_max_mib =
        static_cast<double>(guests.front().static_max_kib()) / kKibPerMib;
  }

  const auto duration = static_cast<std::int64_t>(scenario.duration_seconds);
  for (std::int64_t now = 0; now < duration; ++now) {
    for (std::size_t i = 0; i < guests.size(); ++i) controllers[i].tick(guests[i], now);
    simulation.step();
    for (std::size_t i = 0; i < guests.size(); ++i) {
      result.guests[i].allocation_kib_seconds += guests[i].current_kib();
      ++result.guests[i].seconds;
    }
    if (!guests.empty() && now % kPlotSampleSeconds == 0) {
      const GuestModel& guest = guests.front();
      result.series.push_back(SeriesPoint{static_cast<double>(now) / kSecondsPerHour,
                                          static_cast<double>(guest.allocation_needed_kib(
                                              kib_from_pages(guest.workload().demand_pages()))) /
                                              kKibPerMib,
                                          static_cast<double>(guest.target_kib()) / kKibPerMib,
                                          static_cast<double>(guest.current_kib()) / kKibPerMib});
    }
  }

  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestSnapshot end = guests[i].snapshot();
    const GuestSnapshot& start = at_start[i];
    GuestResult& out = result.guests[i];
    out.swapins = end.vmstat.pswpin - start.vmstat.pswpin;
    out.swapouts = end.vmstat.pswpout - start.vmstat.pswpout;
    out.majfaults = end.vmstat.pgmajfault - start.vmstat.pgmajfault;
    out.psi_some_ns = end.psi_some.total_ns - start.psi_some.total_ns;
    out.psi_full_ns = end.psi_full.total_ns - start.psi_full.total_ns;
    out.oom_kills = guests[i].oom_kills();
  }
  return result;
}

std::string format(const char* pattern, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* pattern, ...) {
  char text[512];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(text, sizeof text, pattern, args);
  va_end(args);
  return text;
}

double seconds_from_ns(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

std::string table(const std::vector<RunResult>& results) {
  std::string out =
      format("%-10s %-9s %10s %14s %13s %11s %11s %11s %5s\n", "scenario", "policy", "alloc%max",
             "reclaimed MiB", "reclaim GiBh", "swap-ins", "majfaults", "PSI some s", "OOM");
  std::string previous;
  for (const RunResult& r : results) {
    if (!previous.empty() && previous != r.scenario) out += "\n";
    previous = r.scenario;
    out += format("%-10s %-9s %10.1f %14.0f %13.1f %11llu %11llu %11.1f %5llu\n",
                  r.scenario.c_str(), std::string(policy_name(r.policy)).c_str(),
                  r.allocation_percent(), r.reclaimed_mean_mib(), r.reclaimed_gib_hours(),
                  static_cast<unsigned long long>(r.total(&GuestResult::swapins)),
                  static_cast<unsigned long long>(r.total(&GuestResult::majfaults)),
                  seconds_from_ns(r.total(&GuestResult::psi_some_ns)),
                  static_cast<unsigned long long>(r.total(&GuestResult::oom_kills)));
  }
  return out;
}

const RunResult* find(const std::vector<RunResult>& results, const std::string& scenario,
                      BenchPolicy policy) {
  for (const RunResult& r : results) {
    if (r.scenario == scenario && r.policy == policy) return &r;
  }
  return nullptr;
}

// The goal for `pressure`: mean allocation within 10 % of the oracle's, swap-ins at
// most 10 % of classic's, no OOM kill.
std::string goal_check(const std::vector<RunResult>& results,
                       const std::vector<std::string>& scenarios) {
  std::string out =
      "goal: pressure allocation <= oracle + 10 %, swap-ins <= 10 % of classic, "
      "0 OOM kills\n";
  bool all_met = true;
  for (const std::string& scenario : scenarios) {
    const RunResult* pressure = find(results, scenario, BenchPolicy::kPressure);
    const RunResult* oracle = find(results, scenario, BenchPolicy::kOracle);
    const RunResult* classic = find(results, scenario, BenchPolicy::kClassic);
    if (!pressure || !oracle || !classic) continue;
    const double above_oracle = 100.0 *
                                (pressure->allocation_percent() - oracle->allocation_percent()) /
                                oracle->allocation_percent();
    const std::uint64_t swapins = pressure->total(&GuestResult::swapins);
    const std::uint64_t classic_swapins = classic->total(&GuestResult::swapins);
    const std::uint64_t ooms = pressure->total(&GuestResult::oom_kills);
    const bool allocation_met = above_oracle <= 10.0;
    const bool swap_met = swapins * 10 <= classic_swapins;
    const bool oom_met = ooms == 0;
    all_met = all_met && allocation_met && swap_met && oom_met;
    const std::string swap_share =
        classic_swapins == 0
            ? std::string("classic had none")
            : format("%.1f %% of classic",
                     100.0 * static_cast<double>(swapins) / static_cast<double>(classic_swapins));
    out += format(
        "  %-10s allocation %+.1f %% vs oracle [%s], swap-ins %llu = %s [%s], "
        "OOM kills %llu [%s]\n",
        scenario.c_str(), above_oracle, allocation_met ? "met" : "MISSED",
        static_cast<unsigned long long>(swapins), swap_share.c_str(), swap_met ? "met" : "MISSED",
        static_cast<unsigned long long>(ooms), oom_met ? "met" : "MISSED");
  }
  out += all_met ? "goal met on every scenario\n" : "goal missed somewhere (see above)\n";
  return out;
}

std::string csv(const std::vector<RunResult>& results) {
  std::string out =
      "scenario,policy,guest,static_max_mib,mean_allocation_mib,allocation_percent_of_static_max,"
      "mean_reclaimed_mib,reclaimed_gib_hours,swapins,swapouts,majfaults,psi_some_seconds,"
      "psi_full_seconds,oom_kills\n";
  for (const RunResult& r : results) {
    const std::string policy(policy_name(r.policy));
    for (const GuestResult& g : r.guests) {
      const double static_max_mib = static_cast<double>(g.static_max_kib) / kKibPerMib;
      const double mean_mib = g.mean_allocation_kib() / kKibPerMib;
      out += format("%s,%s,%s,%.0f,%.3f,%.3f,%.3f,%.4f,%llu,%llu,%llu,%.3f,%.3f,%llu\n",
                    r.scenario.c_str(), policy.c_str(), g.name.c_str(), static_max_mib, mean_mib,
                    100.0 * mean_mib / static_max_mib, static_max_mib - mean_mib,
                    (static_cast<double>(g.static_max_kib * g.seconds) -
                     static_cast<double>(g.allocation_kib_seconds)) /
                        kKibPerGib / kSecondsPerHour,
                    static_cast<unsigned long long>(g.swapins),
                    static_cast<unsigned long long>(g.swapouts),
                    static_cast<unsigned long long>(g.majfaults), seconds_from_ns(g.psi_some_ns),
                    seconds_from_ns(g.psi_full_ns), static_cast<unsigned long long>(g.oom_kills));
    }
    double static_max_mib = 0;
    for (const GuestResult& g : r.guests) {
      static_max_mib += static_cast<double>(g.static_max_kib) / kKibPerMib;
    }
    out += format("%s,%s,*,%.0f,%.3f,%.3f,%.3f,%.4f,%llu,%llu,%llu,%.3f,%.3f,%llu\n",
                  r.scenario.c_str(), policy.c_str(), static_max_mib,
                  static_max_mib - r.reclaimed_mean_mib(), r.allocation_percent(),
                  r.reclaimed_mean_mib(), r.reclaimed_gib_hours(),
                  static_cast<unsigned long long>(r.total(&GuestResult::swapins)),
                  static_cast<unsigned long long>(r.total(&GuestResult::swapouts)),
                  static_cast<unsigned long long>(r.total(&GuestResult::majfaults)),
                  seconds_from_ns(r.total(&GuestResult::psi_some_ns)),
                  seconds_from_ns(r.total(&GuestResult::psi_full_ns)),
                  static_cast<unsigned long long>(r.total(&GuestResult::oom_kills)));
  }
  return out;
}

// gnuplot's single-quoted strings take everything literally except the quote itself.
std::string gnuplot_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// One panel per scenario (rows) and policy (columns) for each scenario's first guest.
Result<void> plot(const std::vector<RunResult>& results, const std::vector<std::string>& scenarios,
                  const std::string& png_path) {
  const auto gnuplot = find_in_path("gnuplot");
  if (!gnuplot) {
    std::fprintf(stderr, "gnuplot not found in PATH: skipping the plot (Debian: gnuplot-nox)\n");
    return {};
  }
  std::error_code temp_error;
  const std::filesystem::path temp_root = std::filesystem::temp_directory_path(temp_error);
  if (temp_error) return Error{"no temporary directory: " + temp_error.message()};
  std::string dir = (temp_root / "xenballoon-bench.XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    return Error{"cannot create " + dir + ": " + std::strerror(errno), errno};
  }
  const std::string data_path = dir + "/series.dat";
  const std::string script_path = dir + "/plot.gp";

  std::string data;
  std::string panels;
  int index = 0;
  const int columns = static_cast<int>(std::size(kPolicies));
  for (const std::string& scenario : scenarios) {
    for (BenchPolicy policy : kPolicies) {
      const RunResult* r = find(results, scenario, policy);
      if (r == nullptr) continue;
      data += "# " + scenario + " " + std::string(policy_name(policy)) + "\n";
      for (const SeriesPoint& p : r->series) {
        data +=
            format("%.4f %.1f %.1f %.1f\n", p.hours, p.needed_mib, p.target_mib, p.allocation_mib);
      }
      data += "\n\n";
      panels += format("set title %s\nset yrange [0:%.0f]\n",
                       gnuplot_quoted(scenario + " / " + r->plotted_guest + " / " +
                                      std::string(policy_name(policy)))
                           .c_str(),
                       r->plotted_static_max_mib * 1.05);
      panels += format(
          "plot %s index %d using 1:2 with lines lw 1.5 lc rgb '#000000' title 'needed', "
          "'' index %d using 1:4 with lines lw 1.5 lc rgb '#d62728' title 'allocation', "
          "'' index %d using 1:3 with lines lc rgb '#1f77b4' dt 2 title 'target'\n",
          gnuplot_quoted(data_path).c_str(), index, index, index);
      ++index;
    }
  }
  const int rows = static_cast<int>(scenarios.size());
  std::string script = format(
      "set terminal pngcairo size %d,%d font ',9'\nset output %s\n"
      "set multiplot layout %d,%d title 'needed memory, balloon target and allocation (MiB) over "
      "virtual hours'\nset xlabel 'hours'\nset key top left font ',7'\nset grid\n",
      340 * columns, 240 * rows + 40, gnuplot_quoted(png_path).c_str(), rows, columns);
  script += panels + "unset multiplot\n";

  Result<void> outcome;
  if (auto written = write_file_atomic(data_path, data); !written) {
    outcome = written;
  } else if (auto script_written = write_file_atomic(script_path, script); !script_written) {
    outcome = script_written;
  } else {
    const std::string program = *gnuplot;
    char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(script_path.c_str()),
                    nullptr};
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
    int status = 0;
    if (spawned != 0) {
      outcome = Error{"cannot run " + program + ": " + std::strerror(spawned), spawned};
    } else if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      outcome = Error{"gnuplot failed to write " + png_path};
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return outcome;
}

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: xenballoon-policy-bench [--scenario FILE]... [--seed N] [--hours H]\n"
               "                               [--csv FILE] [--plot FILE.png]\n"
               "Runs the none, classic, kernel, pressure and oracle policies on each scenario in\n"
               "virtual time and prints a table. Without --scenario: the shipped benchmark\n"
               "scenarios (steady, diurnal, spike, leak, batch). --seed mixes N into every\n"
               "guest's seed (0: as written); --hours cuts every scenario short.\n");
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (arg == "--scenario") {
      auto path = value();
      if (!path) return std::nullopt;
      options.scenario_paths.push_back(*path);
    } else if (arg == "--seed") {
      auto text = value();
      if (!text) return std::nullopt;
      const auto seed = parse_u64(*text);
      if (!seed) {
        std::fprintf(stderr, "--seed: expected a non-negative integer, got \"%s\"\n",
                     text->c_str());
        return std::nullopt;
      }
      options.seed = *seed;
    } else if (arg == "--hours") {
      auto text = value();
      if (!text) return std::nullopt;
      const auto hours = parse_double(*text);
      if (!hours || *hours <= 0) {
        std::fprintf(stderr, "--hours: expected a positive number, got \"%s\"\n", text->c_str());
        return std::nullopt;
      }
      options.hours = *hours;
    } else if (arg == "--csv") {
      auto path = value();
      if (!path) return std::nullopt;
      options.csv_path = *path;
    } else if (arg == "--plot") {
      auto path = value();
      if (!path) return std::nullopt;
      options.plot_path = *path;
    } else {
      std::fprintf(stderr, "unknown argument \"%s\"\n", argv[i]);
      usage(stderr);
      return std::nullopt;
    }
  }
  if (options.scenario_paths.empty()) {
    for (std::string_view name : kBenchmarkScenarios) {
      options.scenario_paths.push_back(std::string(XENBALLOON_SIM_SCENARIO_DIR) + "/" +
                                       std::string(name) + ".yaml");
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  if (!options) return 2;
  const auto started = std::chrono::steady_clock::now();

  std::vector<Scenario> scenarios;
  for (const std::string& path : options->scenario_paths) {
    auto scenario = load_scenario(path);
    if (!scenario) {
      std::fprintf(stderr, "%s\n", scenario.error().message.c_str());
      return 1;
    }
    Scenario seeded = with_seed(std::move(*scenario), options->seed);
    if (options->hours) {
      seeded.duration_seconds = std::min<std::uint64_t>(
          seeded.duration_seconds,
          static_cast<std::uint64_t>(*options->hours * kSecondsPerHour + 0.5));
    }
    scenarios.push_back(std::move(seeded));
  }

  std::vector<RunResult> results;
  std::vector<std::string> names;
  for (const Scenario& scenario : scenarios) {
    names.push_back(scenario.name);
    for (BenchPolicy policy : kPolicies) {
      auto result = run(scenario, policy);
      if (!result) {
        std::fprintf(stderr, "%s\n", result.error().message.c_str());
        return 1;
      }
      results.push_back(std::move(*result));
    }
  }

  std::string header = format("seed %llu; ", static_cast<unsigned long long>(options->seed));
  for (const Scenario& scenario : scenarios) {
    header += format("%s: %zu guests, %.1f h; ", scenario.name.c_str(), scenario.guests.size(),
                     static_cast<double>(scenario.duration_seconds) / kSecondsPerHour);
  }
  header.resize(header.size() - 2);
  std::fputs((header + "\n\n" + table(results) + "\n" + goal_check(results, names)).c_str(),
             stdout);

  int exit_code = 0;
  if (!options->csv_path.empty()) {
    if (auto written = write_file_atomic(options->csv_path, csv(results)); !written) {
      std::fprintf(stderr, "%s\n", written.error().message.c_str());
      exit_code = 1;
    }
  }
  if (!options->plot_path.empty()) {
    if (auto plotted = plot(results, names, options->plot_path); !plotted) {
      std::fprintf(stderr, "%s\n", plotted.error().message.c_str());
      exit_code = 1;
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  std::fprintf(stderr, "simulated in %.1f s of wall time\n", elapsed.count());
  return exit_code;
}
