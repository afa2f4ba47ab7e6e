// xenballoon-balancer-bench: the dom0 policies side by side on one simulated, oversubscribed
// host, in virtual time. The model (xenballoon::sim), every guest's agent (its own decide(),
// selfballooning below dom0's target) and the dom0 policy run in one process; `balancer` is the
// same balance::plan_step the daemon runs, every 5 model seconds. A 24-hour run takes seconds
// and replays byte for byte. What is measured and the results: docs/balancer.md, "Benchmark".
// This file: the command line and the sequence (dom0_policies.h: the policies, run.h: one run,
// report.h: table, goal and CSV, plot.h: the gnuplot figures).

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
#include "report.h"
#include "run.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"

namespace {

using namespace xenballoon;
using namespace xenballoon::sim;
using namespace xenballoon::sim::balancer_bench;

#ifndef XENBALLOON_SIM_SCENARIO_DIR
#define XENBALLOON_SIM_SCENARIO_DIR "tools/sim/scenarios"
#endif

struct Options {
  std::string scenario_path =
      std::string(XENBALLOON_SIM_SCENARIO_DIR) + "/balancer-oversubscribed.yaml";
  std::vector<std::uint64_t> seeds;
  std::string csv_path;
  std::string plot_prefix;
  std::optional<double> hours;
};

constexpr const char* kUsage =
    R"(usage: xenballoon-balancer-bench [--scenario FILE] [--seed N]... [--hours H]
                                 [--csv FILE] [--plot PREFIX]
Runs the static, selfballoon, squeezed, qmemman and balancer dom0 policies on
one oversubscribed host in virtual time and prints a table and the goals.
Without --scenario: balancer-oversubscribed; without --seed: seeds 0, 1, 2.
--hours cuts the scenario short; --csv writes the time series; --plot writes
PREFIX-<policy>.png for the first seed (needs gnuplot).
)";

std::optional<Options> parse_options(int argc, char** argv, int* exit_code) {
  Options options;
  xenballoon::daemon::Flags flags("xenballoon-balancer-bench", kUsage);
  flags.option("scenario", 0, &options.scenario_path);
  flags.option("seed", 0, xenballoon::sim::bench::seed_flag([&](std::uint64_t seed) {
                 options.seeds.push_back(seed);
               }));
  flags.option("hours", 0, xenballoon::sim::bench::hours_flag(&options.hours));
  flags.option("csv", 0, &options.csv_path);
  flags.option("plot", 0, &options.plot_prefix);
  if (auto code = flags.parse(argc, argv)) {
    *exit_code = *code;
    return std::nullopt;
  }
  if (options.seeds.empty()) options.seeds = {0, 1, 2};
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  int usage_exit = 0;
  const auto options = parse_options(argc, argv, &usage_exit);
  if (!options) return usage_exit;
  const auto started = std::chrono::steady_clock::now();

  auto loaded = load_scenario(options->scenario_path);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    return 1;
  }
  std::uint64_t static_max_mib = 0;
  for (const GuestSpec& guest : loaded->guests) static_max_mib += guest.static_max_mib;

  std::vector<RunResult> results;
  std::uint64_t duration_seconds = loaded->duration_seconds;
  for (std::uint64_t seed : options->seeds) {
    Scenario seeded = with_seed(*loaded, seed);
    if (options->hours) {
      seeded.duration_seconds = std::min<std::uint64_t>(
          seeded.duration_seconds,
          static_cast<std::uint64_t>(*options->hours * kSecondsPerHour + 0.5));
    }
    duration_seconds = seeded.duration_seconds;
    for (Dom0Policy policy : kDom0Policies) {
      auto result = run(seeded, seed, policy);
      if (!result) {
        std::fprintf(stderr, "%s\n", result.error().message.c_str());
        return 1;
      }
      results.push_back(std::move(*result));
    }
  }

  const double host_mib = static_cast<double>(loaded->host.memory_mib);
  const std::string header = format(
      "%s: %zu guests, host %.0f MiB, static-max %llu MiB together (%.2fx), %.1f h, dom0 every "
      "%lld s\n",
      loaded->name.c_str(), loaded->guests.size(), host_mib,
      static_cast<unsigned long long>(static_max_mib),
      static_cast<double>(static_max_mib) / host_mib,
      static_cast<double>(duration_seconds) / kSecondsPerHour,
      static_cast<long long>(kDom0IntervalSeconds));
  std::fputs((header + "\n" + table(results, options->seeds) + "\n" + goal_check(results)).c_str(),
             stdout);

  int exit_code = 0;
  if (!options->csv_path.empty()) {
    if (auto written = write_file_atomic(options->csv_path, csv(results)); !written) {
      std::fprintf(stderr, "%s\n", written.error().message.c_str());
      exit_code = 1;
    }
  }
  if (!options->plot_prefix.empty()) {
    if (auto plotted = plot(results, options->seeds.front(), options->plot_prefix); !plotted) {
      std::fprintf(stderr, "%s\n", plotted.error().message.c_str());
      exit_code = 1;
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  std::fprintf(stderr, "simulated in %.1f s of wall time\n", elapsed.count());
  return exit_code;
}
