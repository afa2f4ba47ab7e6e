#include "report.h"

#include <cstdarg>
#include <cstdio>

namespace xenballoon::sim::bench {

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

}  // namespace xenballoon::sim::bench
