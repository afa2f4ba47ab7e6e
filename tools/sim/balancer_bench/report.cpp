#include "report.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace xenballoon::sim::balancer_bench {
namespace {

struct Row {
  double ooms = 0, swapins = 0, refaults = 0, psi_seconds = 0, lost_seconds = 0,
         stalled_percent = 0, idle_percent = 0, idle_hard_percent = 0, hard_seconds = 0,
         capped_seconds = 0, allocation_gib = 0;
  int runs = 0;
};

Row row_of(const RunResult& r) {
  return Row{static_cast<double>(r.total(&GuestTotals::oom_kills)),
             static_cast<double>(r.total(&GuestTotals::swapins)),
             static_cast<double>(r.total(&GuestTotals::file_refaults)),
             r.psi_some_seconds(),
             r.lost_seconds(),
             r.stalled_percent(),
             r.idle_percent_while_stalled(),
             r.idle_percent_while_hard_stalled(),
             static_cast<double>(r.hard_stalled_seconds),
             static_cast<double>(r.capped_stall_seconds),
             r.mean_allocation_gib(),
             1};
}

// The mean over every run of `policy`.
Row mean_of(const std::vector<RunResult>& results, Dom0Policy policy) {
  Row sum;
  for (const RunResult& r : results) {
    if (r.policy != policy) continue;
    const Row one = row_of(r);
    sum.ooms += one.ooms;
    sum.swapins += one.swapins;
    sum.refaults += one.refaults;
    sum.psi_seconds += one.psi_seconds;
    sum.lost_seconds += one.lost_seconds;
    sum.stalled_percent += one.stalled_percent;
    sum.idle_percent += one.idle_percent;
    sum.idle_hard_percent += one.idle_hard_percent;
    sum.hard_seconds += one.hard_seconds;
    sum.capped_seconds += one.capped_seconds;
    sum.allocation_gib += one.allocation_gib;
    ++sum.runs;
  }
  if (sum.runs == 0) return sum;
  const double n = sum.runs;
  return Row{sum.ooms / n,           sum.swapins / n,           sum.refaults / n,
             sum.psi_seconds / n,    sum.lost_seconds / n,      sum.stalled_percent / n,
             sum.idle_percent / n,   sum.idle_hard_percent / n, sum.hard_seconds / n,
             sum.capped_seconds / n, sum.allocation_gib / n,    sum.runs};
}

std::string line(const char* seed, Dom0Policy policy, const Row& row, double host_gib) {
  return format(
      "%-4s %-13s %4.1f %9.0f %10.0f %8.0f %8.0f %6.1f %6.2f %6.0f %7.2f %6.0f %6.2f %6.1f\n", seed,
      std::string(policy_name(policy)).c_str(), row.ooms, row.swapins, row.refaults,
      row.psi_seconds, row.lost_seconds, row.stalled_percent, row.idle_percent, row.hard_seconds,
      row.idle_hard_percent, row.capped_seconds, row.allocation_gib,
      100.0 * row.allocation_gib / host_gib);
}

}  // namespace

std::string format(const char* pattern, ...) {
  char text[512];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(text, sizeof text, pattern, args);
  va_end(args);
  return text;
}

std::string table(const std::vector<RunResult>& results, const std::vector<std::uint64_t>& seeds) {
  std::string out = format("%-4s %-13s %4s %9s %10s %8s %8s %6s %6s %6s %7s %6s %6s %6s\n", "seed",
                           "policy", "OOM", "swap-ins", "refaults", "PSI s", "lost s", "stal%t",
                           "idle%", "hard s", "idle%hd", "capped", "alloc", "alloc%");
  const double host_gib =
      results.empty() ? 1 : static_cast<double>(results.front().host_kib) / (1024.0 * 1024.0);
  for (std::uint64_t seed : seeds) {
    const std::string seed_text = std::to_string(seed);
    for (const RunResult& r : results) {
      if (r.seed == seed) out += line(seed_text.c_str(), r.policy, row_of(r), host_gib);
    }
    out += "\n";
  }
  for (Dom0Policy policy : kDom0Policies) {
    const Row mean = mean_of(results, policy);
    if (mean.runs != 0) out += line("mean", policy, mean, host_gib);
  }
  out +=
      "(lost s: seconds the guests' workloads did not progress because they stalled, summed;\n"
      " the model's workloads do not make that work up later)\n";
  return out;
}

namespace {

// The goals for one of the balancer's rows; `met` is cleared when one is missed.
std::string goals_of(const std::vector<RunResult>& results, Dom0Policy policy, bool& met) {
  const Row balancer = mean_of(results, policy);
  const Row alone = mean_of(results, Dom0Policy::kSelfballoon);
  const std::string name(policy_name(policy));
  if (balancer.runs == 0 || alone.runs == 0) {
    met = false;
    return "goal: not checked (no " + name + " or selfballoon run)\n";
  }
  double max_ooms = 0;
  for (const RunResult& r : results) {
    if (r.policy == policy) {
      max_ooms = std::max(max_ooms, static_cast<double>(r.total(&GuestTotals::oom_kills)));
    }
  }
  auto fewer = [](double value, double reference) {
    return reference == 0 ? (value == 0 ? 0.0 : -100.0) : 100.0 * (1.0 - value / reference);
  };
  const double swap_fewer = fewer(balancer.swapins, alone.swapins);
  const double stall_fewer = fewer(balancer.psi_seconds, alone.psi_seconds);
  const bool oom_met = max_ooms == 0;
  const bool swap_met = swap_fewer >= 50.0;
  const bool stall_met = stall_fewer >= 50.0;
  const bool idle_met = balancer.idle_percent <= 5.0;
  std::string out = "goal (" + name + ", mean over the seeds, against selfballoon alone):\n";
  out += format("  OOM kills 0 in every run: %.0f at most [%s]\n", max_ooms,
                oom_met ? "PASS" : "MISSED");
  out += format("  swap-ins >= 50 %% fewer: %.0f vs %.0f, %.1f %% fewer [%s]\n", balancer.swapins,
                alone.swapins, swap_fewer, swap_met ? "PASS" : "MISSED");
  out +=
      format("  PSI some stall >= 50 %% less: %.1f s vs %.1f s, %.1f %% less [%s]\n",
             balancer.psi_seconds, alone.psi_seconds, stall_fewer, stall_met ? "PASS" : "MISSED");
  out += format("  host memory idle while any guest stalls <= 5 %%: %.2f %% [%s]\n",
                balancer.idle_percent, idle_met ? "PASS" : "MISSED");
  double waiting = 0, with_free = 0, needy = 0, steps = 0;
  for (const RunResult& r : results) {
    if (r.policy != policy) continue;
    waiting += static_cast<double>(r.waits.waiting);
    with_free += static_cast<double>(r.waits.with_free);
    needy += static_cast<double>(r.waits.needy);
    steps += static_cast<double>(r.seconds / kDom0IntervalSeconds * r.guests.size());
  }
  const double runs = balancer.runs;
  out += format(
      "  (balancer plans, mean per run: %.0f of %.0f guest-steps waiting_for_free, %.0f of them "
      "with the host above reserve + min step free, %.0f with the need above what the guest "
      "held)\n",
      waiting / runs, steps / runs, with_free / runs, needy / runs);
  met = met && oom_met && swap_met && stall_met && idle_met;
  return out;
}

}  // namespace

std::string goal_check(const std::vector<RunResult>& results) {
  bool directed_met = true, self_met = true;
  std::string out = goals_of(results, Dom0Policy::kBalancer, directed_met);
  out += goals_of(results, Dom0Policy::kBalancerSelf, self_met);
  out += directed_met ? "every goal met by balancer (directed guests)"
                      : "goal missed by balancer (directed guests)";
  out += self_met ? "; every goal met by balancer-self (selfballooning guests)\n"
                  : "; goal missed by balancer-self (selfballooning guests, see above)\n";
  return out;
}

std::string csv(const std::vector<RunResult>& results) {
  std::string out =
      "scenario,seed,policy,second,host_free_mib,guest,target_mib,allocation_mib,needed_mib,"
      "psi_some_avg10\n";
  for (const RunResult& r : results) {
    const std::string policy(policy_name(r.policy));
    for (const Sample& s : r.series) {
      for (std::size_t i = 0; i < s.guests.size() && i < r.guests.size(); ++i) {
        const GuestSample& g = s.guests[i];
        out += format("%s,%llu,%s,%lld,%.1f,%s,%.1f,%.1f,%.1f,%.2f\n", r.scenario.c_str(),
                      static_cast<unsigned long long>(r.seed), policy.c_str(),
                      static_cast<long long>(s.second), s.host_free_mib, r.guests[i].name.c_str(),
                      g.target_mib, g.allocation_mib, g.needed_mib, g.psi_some_avg10);
      }
    }
  }
  return out;
}

}  // namespace xenballoon::sim::balancer_bench
