#include "report.h"

#include <algorithm>
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
  std::string out = format("%-16s %-11s %9s %13s %12s %10s %10s %10s %10s %10s %4s\n", "scenario",
                           "policy", "alloc%max", "reclaimed MiB", "reclaim GiBh", "swap-ins",
                           "majfaults", "refaults", "PSI some s", "lost work", "OOM");
  std::string previous;
  for (const RunResult& r : results) {
    if (!previous.empty() && previous != r.scenario) out += "\n";
    previous = r.scenario;
    out += format("%-16s %-11s %9.1f %13.0f %12.1f %10llu %10llu %10llu %10.1f %10.1f %4llu\n",
                  r.scenario.c_str(), std::string(policy_name(r.policy)).c_str(),
                  r.allocation_percent(), r.reclaimed_mean_mib(), r.reclaimed_gib_hours(),
                  static_cast<unsigned long long>(r.total(&GuestResult::swapins)),
                  static_cast<unsigned long long>(r.total(&GuestResult::majfaults)),
                  static_cast<unsigned long long>(r.total(&GuestResult::file_refaults)),
                  seconds_from_ns(r.total(&GuestResult::psi_some_ns)),
                  seconds_from_ns(r.total(&GuestResult::lost_work_ns)),
                  static_cast<unsigned long long>(r.total(&GuestResult::oom_kills)));
  }
  return out;
}

bool is_shipped_goal_scenario(std::string_view scenario) {
  for (std::string_view name : {"steady", "diurnal", "spike", "leak", "batch"}) {
    if (scenario == name) return true;
  }
  return false;
}

double stall_limit_seconds_per_day(std::string_view scenario) {
  return scenario.starts_with("spike") ? kSpikeStallLimitSecondsPerDay : kStallLimitSecondsPerDay;
}

GoalRow goal_row(const std::vector<RunResult>& results, const std::string& scenario,
                 BenchPolicy policy) {
  GoalRow row;
  row.scenario = scenario;
  const RunResult* candidate = find(results, scenario, policy);
  const RunResult* oracle = find(results, scenario, BenchPolicy::kOracle);
  const RunResult* classic = find(results, scenario, BenchPolicy::kClassic);
  if (!candidate || !oracle || !classic || oracle->guests.size() != candidate->guests.size()) {
    return row;
  }
  row.present = true;
  row.stall_limit = stall_limit_seconds_per_day(scenario);
  row.allocation_vs_oracle_percent =
      100.0 * (candidate->allocation_percent() - oracle->allocation_percent()) /
      oracle->allocation_percent();
  for (std::size_t i = 0; i < candidate->guests.size(); ++i) {
    const GuestResult& g = candidate->guests[i];
    const GuestResult& o = oracle->guests[i];
    const double stall = g.per_day(g.psi_some_ns) / 1e9;
    row.max_stall_per_day = std::max(row.max_stall_per_day, stall);
    row.max_lost_work_per_day =
        std::max(row.max_lost_work_per_day, g.per_day(g.lost_work_ns) / 1e9);
    const double above = 100.0 * (g.mean_allocation_kib() - o.mean_allocation_kib()) /
                         std::max(1.0, o.mean_allocation_kib());
    row.worst_guest_vs_oracle_percent = std::max(row.worst_guest_vs_oracle_percent, above);
    if (g.mean_allocation_kib() >= o.mean_allocation_kib() && stall > kStallLimitSecondsPerDay) {
      ++row.fed_but_stalling;
    }
  }
  row.oom_kills = candidate->total(&GuestResult::oom_kills);
  row.swapins = candidate->total(&GuestResult::swapins);
  row.classic_swapins = classic->total(&GuestResult::swapins);
  row.met = row.max_stall_per_day <= row.stall_limit && row.allocation_vs_oracle_percent <= 10.0 &&
            row.worst_guest_vs_oracle_percent <= 15.0 && row.oom_kills == 0 &&
            row.swapins * 10 <= row.classic_swapins && row.fed_but_stalling == 0;
  return row;
}

std::string goal_check(const std::vector<RunResult>& results,
                       const std::vector<std::string>& scenarios, BenchPolicy policy) {
  const std::string name(policy_name(policy));
  std::string out = format(
      "goals for %s: PSI some <= 150 s/day per guest (spike 600), allocation <= oracle + 10 %% "
      "per\n"
      "scenario and + 15 %% per guest, 0 OOM kills, swap-ins <= 10 %% of classic, no guest at or\n"
      "above the oracle's memory stalling > 150 s/day; lost work reported (s/day, worst guest)\n",
      name.c_str());
  out += format("  %-16s %10s %9s %9s %4s %9s %6s %10s  %s\n", "scenario", "stall s/d", "alloc%or",
                "guest%or", "OOM", "swap%cls", "fed+st", "lost s/d", "verdict");
  bool all_met = true;
  unsigned counted = 0;
  for (const std::string& scenario : scenarios) {
    const GoalRow row = goal_row(results, scenario, policy);
    if (!row.present) continue;
    const bool counts = is_shipped_goal_scenario(scenario);
    if (counts) {
      all_met = all_met && row.met;
      ++counted;
    }
    const std::string swap_share =
        row.classic_swapins == 0 ? std::string(row.swapins == 0 ? "0/0" : "inf")
                                 : format("%.1f", 100.0 * static_cast<double>(row.swapins) /
                                                      static_cast<double>(row.classic_swapins));
    out += format("  %-16s %10.1f %+9.1f %+9.1f %4llu %9s %6u %10.1f  %s\n", scenario.c_str(),
                  row.max_stall_per_day, row.allocation_vs_oracle_percent,
                  row.worst_guest_vs_oracle_percent, static_cast<unsigned long long>(row.oom_kills),
                  swap_share.c_str(), row.fed_but_stalling, row.max_lost_work_per_day,
                  row.met ? "met" : (counts ? "MISSED" : "missed (reported only)"));
  }
  if (counted == 0) {
    out += format("%s: no shipped scenario ran it with the oracle and classic\n", name.c_str());
  } else {
    out += all_met ? format("%s: goals met on every shipped scenario\n", name.c_str())
                   : format("%s: goals missed somewhere (see above)\n", name.c_str());
  }
  return out;
}

std::string csv(const std::vector<RunResult>& results) {
  std::string out =
      "scenario,policy,guest,static_max_mib,mean_allocation_mib,allocation_percent_of_static_max,"
      "mean_reclaimed_mib,reclaimed_gib_hours,swapins,swapouts,majfaults,psi_some_seconds,"
      "psi_full_seconds,oom_kills,file_refaults,lost_work_seconds\n";
  for (const RunResult& r : results) {
    const std::string policy(policy_name(r.policy));
    for (const GuestResult& g : r.guests) {
      const double static_max_mib = static_cast<double>(g.static_max_kib) / kKibPerMib;
      const double mean_mib = g.mean_allocation_kib() / kKibPerMib;
      out += format(
          "%s,%s,%s,%.0f,%.3f,%.3f,%.3f,%.4f,%llu,%llu,%llu,%.3f,%.3f,%llu,%llu,%.3f\n",
          r.scenario.c_str(), policy.c_str(), g.name.c_str(), static_max_mib, mean_mib,
          100.0 * mean_mib / static_max_mib, static_max_mib - mean_mib,
          (static_cast<double>(g.static_max_kib * g.seconds) -
           static_cast<double>(g.allocation_kib_seconds)) /
              kKibPerGib / kSecondsPerHour,
          static_cast<unsigned long long>(g.swapins), static_cast<unsigned long long>(g.swapouts),
          static_cast<unsigned long long>(g.majfaults), seconds_from_ns(g.psi_some_ns),
          seconds_from_ns(g.psi_full_ns), static_cast<unsigned long long>(g.oom_kills),
          static_cast<unsigned long long>(g.file_refaults), seconds_from_ns(g.lost_work_ns));
    }
    double static_max_mib = 0;
    for (const GuestResult& g : r.guests) {
      static_max_mib += static_cast<double>(g.static_max_kib) / kKibPerMib;
    }
    out += format("%s,%s,*,%.0f,%.3f,%.3f,%.3f,%.4f,%llu,%llu,%llu,%.3f,%.3f,%llu,%llu,%.3f\n",
                  r.scenario.c_str(), policy.c_str(), static_max_mib,
                  static_max_mib - r.reclaimed_mean_mib(), r.allocation_percent(),
                  r.reclaimed_mean_mib(), r.reclaimed_gib_hours(),
                  static_cast<unsigned long long>(r.total(&GuestResult::swapins)),
                  static_cast<unsigned long long>(r.total(&GuestResult::swapouts)),
                  static_cast<unsigned long long>(r.total(&GuestResult::majfaults)),
                  seconds_from_ns(r.total(&GuestResult::psi_some_ns)),
                  seconds_from_ns(r.total(&GuestResult::psi_full_ns)),
                  static_cast<unsigned long long>(r.total(&GuestResult::oom_kills)),
                  static_cast<unsigned long long>(r.total(&GuestResult::file_refaults)),
                  seconds_from_ns(r.total(&GuestResult::lost_work_ns)));
  }
  return out;
}

}  // namespace xenballoon::sim::bench
