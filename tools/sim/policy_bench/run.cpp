#include "run.h"

#include "xenballoon/sim/trace.h"

namespace xenballoon::sim::bench {

Result<RunResult> run(const Scenario& scenario, BenchPolicy policy, const RunOptions& options) {
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
    controllers.emplace_back(policy, guest, options.agent);
    at_start.push_back(guest.snapshot());
    result.guests.push_back(GuestResult{guest.spec().name, guest.static_max_kib()});
  }
  if (!guests.empty()) {
    result.plotted_guest = guests.front().spec().name;
    result.plotted_static_max_mib =
        static_cast<double>(guests.front().static_max_kib()) / kKibPerMib;
  }

  const auto duration = static_cast<std::int64_t>(scenario.duration_seconds);
  std::uint64_t plotted_stall_ns = guests.empty() ? 0 : guests.front().snapshot().psi_some.total_ns;
  for (std::int64_t now = 0; now < duration; ++now) {
    for (std::size_t i = 0; i < guests.size(); ++i) controllers[i].tick(guests[i], now);
    simulation.step();
    for (std::size_t i = 0; i < guests.size(); ++i) {
      result.guests[i].allocation_kib_seconds += guests[i].current_kib();
      ++result.guests[i].seconds;
      if (options.trace) {
        result.trace += trace_row(trace_sample(guests[i].snapshot()),
                                  scenario.name + "," + std::string(policy_name(policy)) + "," +
                                      guests[i].spec().name + ",");
      }
    }
    if (!guests.empty() && now % kPlotSampleSeconds == 0) {
      const GuestModel& guest = guests.front();
      const std::uint64_t stall_ns = guest.snapshot().psi_some.total_ns;
      const double stall_percent = 100.0 * static_cast<double>(stall_ns - plotted_stall_ns) /
                                   (static_cast<double>(kPlotSampleSeconds) * 1e9);
      plotted_stall_ns = stall_ns;
      result.series.push_back(SeriesPoint{
          static_cast<double>(now) / kSecondsPerHour,
          static_cast<double>(
              guest.allocation_needed_kib(kib_from_pages(guest.workload().demand_pages()))) /
              kKibPerMib,
          static_cast<double>(guest.target_kib()) / kKibPerMib,
          static_cast<double>(guest.current_kib()) / kKibPerMib, stall_percent});
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
    out.file_refaults = end.vmstat.workingset_refault_file - start.vmstat.workingset_refault_file;
    out.lost_work_ns = guests[i].lost_work_ns();
  }
  return result;
}

const RunResult* find(const std::vector<RunResult>& results, const std::string& scenario,
                      BenchPolicy policy) {
  for (const RunResult& r : results) {
    if (r.scenario == scenario && r.policy == policy) return &r;
  }
  return nullptr;
}

}  // namespace xenballoon::sim::bench
