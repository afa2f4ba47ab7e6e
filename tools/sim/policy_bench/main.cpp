// xenballoon-policy-bench: the balloon policies side by side on simulated guests, in virtual
// time. The model (xenballoon::sim) and the agent's own decide() run in one process, one decision
// per guest per virtual second, so a 24-hour scenario takes seconds and replays byte for byte.
// What is measured and how to read it: docs/simulation.md, results: bench/policy_bench.md.
// This file: the command line and the sequence (policies.h: the policies and the oracle, run.h:
// one run, report.h: table, goal and CSV, plot.h: the gnuplot figure).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench_flags.h"
#include "plot.h"
#include "policies.h"
#include "report.h"
#include "run.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/sim/simulation.h"
#include "xenballoon/sim/trace.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace {

using namespace xenballoon;
using namespace xenballoon::sim;
using namespace xenballoon::sim::bench;

#ifndef XENBALLOON_SIM_SCENARIO_DIR
#define XENBALLOON_SIM_SCENARIO_DIR "tools/sim/scenarios"
#endif

// The five the goals count on, then the ones reported the same way (docs/simulation.md).
constexpr std::string_view kBenchmarkScenarios[] = {"steady",  "diurnal",    "spike", "leak",
                                                    "batch",   "fileserver", "zipf",  "forkburst",
                                                    "growing", "contention"};

struct Options {
  std::vector<std::string> scenario_paths;
  std::uint64_t seed = 0;
  std::string csv_path;
  std::string plot_path;
  std::string plot_dir;
  std::string trace_path;
  std::optional<double> hours;
  bool no_swap = false;
  std::optional<std::uint64_t> balloon_rate_mib_per_s;
  std::optional<std::uint64_t> headroom_min_mib;
  std::string agent_config_path;
  std::vector<BenchPolicy> policies;
};

constexpr const char* kUsage =
    R"(usage: xenballoon-policy-bench [--scenario FILE]... [--seed N] [--hours H]
                               [--policy NAME]... [--no-swap] [--balloon-rate MIB]
                               [--headroom-min MIB] [--agent-config FILE]
                               [--csv FILE] [--plot FILE.png] [--plot-dir DIR]
                               [--trace FILE]
Runs the balloon policies and the oracle on each scenario in virtual time and
prints a table and the goals. Without --scenario: the shipped benchmark
scenarios (steady, diurnal, spike, leak, batch, fileserver, zipf, forkburst,
growing, contention). --seed mixes N into every guest's seed (0: as written);
--hours cuts every scenario short; --policy runs only the policies named (the
oracle and classic, which the goals compare with, always run); --no-swap takes
every guest's swap away; --balloon-rate sets the balloon speed (MiB/s, default
as the scenario says) and pressure-v2's pressure.balloon_rate_mib_per_s; --headroom-min sets pressure-v2's least spike headroom
(pressure.headroom_min_mib); --agent-config runs the policies with that
xenballoond.yaml (validated as the agent does; the flags above still apply;
its policy: is ignored, each policy runs by name); --plot draws every scenario and policy in one PNG,
--plot-dir one PNG per scenario (needed memory, oracle, pressure and
pressure-v2 allocation, PSI stall); --trace writes every guest's state every
second as CSV.
)";

std::optional<Options> parse_options(int argc, char** argv, int* exit_code) {
  Options options;
  xenballoon::daemon::Flags flags("xenballoon-policy-bench", kUsage);
  flags.option("scenario", 0, [&](std::string_view path) -> Result<void> {
    options.scenario_paths.emplace_back(path);
    return {};
  });
  flags.option("seed", 0,
               xenballoon::sim::bench::seed_flag([&](std::uint64_t seed) { options.seed = seed; }));
  flags.option("hours", 0, xenballoon::sim::bench::hours_flag(&options.hours));
  flags.option("csv", 0, &options.csv_path);
  flags.option("plot", 0, &options.plot_path);
  flags.option("plot-dir", 0, &options.plot_dir);
  flags.option("trace", 0, &options.trace_path);
  flags.flag("no-swap", 0, &options.no_swap);
  flags.option("balloon-rate", 0, [&](std::string_view text) -> Result<void> {
    const auto rate = parse_u64(text);
    if (!rate || *rate == 0 || *rate > 65536) {
      return Error{"--balloon-rate: expected MiB per second between 1 and 65536, got \"" +
                   std::string(text) + "\""};
    }
    options.balloon_rate_mib_per_s = *rate;
    return {};
  });
  flags.option("headroom-min", 0, [&](std::string_view text) -> Result<void> {
    const auto mib = parse_u64(text);
    if (!mib || *mib > kMaxSizeMib) {
      return Error{"--headroom-min: expected MiB from 0 to " + std::to_string(kMaxSizeMib) +
                   ", got \"" + std::string(text) + "\""};
    }
    options.headroom_min_mib = *mib;
    return {};
  });
  flags.option("agent-config", 0, &options.agent_config_path);
  flags.option("policy", 0, [&](std::string_view text) -> Result<void> {
    for (BenchPolicy policy : kPolicies) {
      if (policy_name(policy) == text) {
        options.policies.push_back(policy);
        return {};
      }
    }
    std::string known;
    for (BenchPolicy policy : kPolicies) known += " " + std::string(policy_name(policy));
    return Error{"--policy: unknown policy \"" + std::string(text) + "\" (known:" + known + ")"};
  });
  if (auto code = flags.parse(argc, argv)) {
    *exit_code = *code;
    return std::nullopt;
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
  int usage_exit = 0;
  const auto options = parse_options(argc, argv, &usage_exit);
  if (!options) return usage_exit;
  const auto started = std::chrono::steady_clock::now();

  std::vector<Scenario> scenarios;
  for (const std::string& path : options->scenario_paths) {
    auto scenario = load_scenario(path);
    if (!scenario) {
      std::fprintf(stderr, "%s\n", scenario.error().message.c_str());
      return 1;
    }
    Scenario seeded = with_seed(std::move(*scenario), options->seed);
    if (options->no_swap) seeded = without_swap(std::move(seeded));
    if (options->balloon_rate_mib_per_s) {
      seeded = with_balloon_rate(std::move(seeded), *options->balloon_rate_mib_per_s);
    }
    if (options->hours) {
      seeded.duration_seconds = std::min<std::uint64_t>(
          seeded.duration_seconds,
          static_cast<std::uint64_t>(*options->hours * kSecondsPerHour + 0.5));
    }
    scenarios.push_back(std::move(seeded));
  }

  AgentConfig agent_config;
  if (!options->agent_config_path.empty()) {
    auto loaded = load_valid_agent_config(options->agent_config_path);
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
      return 1;
    }
    agent_config = std::move(*loaded);
  }

  std::vector<RunResult> results;
  std::vector<std::string> names;
  for (const Scenario& scenario : scenarios) {
    names.push_back(scenario.name);
    for (BenchPolicy policy : kPolicies) {
      const bool wanted = options->policies.empty() || policy == BenchPolicy::kOracle ||
                          policy == BenchPolicy::kClassic ||
                          std::find(options->policies.begin(), options->policies.end(), policy) !=
                              options->policies.end();
      if (!wanted) continue;
      RunOptions run_options;
      run_options.agent = agent_config;
      run_options.trace = !options->trace_path.empty();
      // The agent is told the host's balloon speed, as docs/policies.md asks.
      if (options->balloon_rate_mib_per_s) {
        run_options.agent.pressure.balloon_rate_mib_per_s = *options->balloon_rate_mib_per_s;
      }
      if (options->headroom_min_mib) {
        run_options.agent.pressure.headroom_min_mib = *options->headroom_min_mib;
        run_options.agent.pressure.headroom_max_mib =
            std::max(run_options.agent.pressure.headroom_max_mib, *options->headroom_min_mib);
      }
      auto result = run(scenario, policy, run_options);
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
  std::fputs(
      (header + "\n\n" + table(results) + "\n" + goal_check(results, names, kCandidate)).c_str(),
      stdout);

  int exit_code = 0;
  if (!options->csv_path.empty()) {
    if (auto written = write_file_atomic(options->csv_path, csv(results)); !written) {
      std::fprintf(stderr, "%s\n", written.error().message.c_str());
      exit_code = 1;
    }
  }
  if (!options->trace_path.empty()) {
    std::string trace = trace_header("scenario,policy,guest,");
    for (const RunResult& r : results) trace += r.trace;
    if (auto written = write_file_atomic(options->trace_path, trace); !written) {
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
  if (!options->plot_dir.empty()) {
    if (auto plotted = plot_scenarios(results, names, kCandidate, options->plot_dir); !plotted) {
      std::fprintf(stderr, "%s\n", plotted.error().message.c_str());
      exit_code = 1;
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  std::fprintf(stderr, "simulated in %.1f s of wall time\n", elapsed.count());
  return exit_code;
}
