#include "run.h"

#include "policies.h"
#include "xenballoon/config/agent_config.h"

namespace xenballoon::sim::balancer_bench {

Result<RunResult> run(const Scenario& scenario, std::uint64_t seed, Dom0Policy policy) {
  auto created = Simulation::create(scenario);
  if (!created) return created.error();
  Simulation& simulation = *created;
  std::vector<GuestModel>& guests = simulation.guests();

  // Selfballooning guests run the agent's default policy (pressure-v2) below dom0's target; the
  // others the agent's `none` (the balloon follows memory/target by itself, as the kernel's driver
  // does).
  const GuestMode mode = guest_mode(policy);
  const bench::BenchPolicy guest_policy =
      mode == GuestMode::kSelfballoon ? bench::BenchPolicy::kPressureV2 : bench::BenchPolicy::kNone;
  std::vector<bench::Controller> agents;
  std::vector<GuestSnapshot> at_start;
  std::vector<publish::GuestStats> published;
  RunResult result;
  result.scenario = scenario.name;
  result.seed = seed;
  result.policy = policy;
  result.host_kib = kib_from_pages(simulation.host().total_pages());
  for (const GuestModel& guest : guests) {
    agents.emplace_back(guest_policy, guest);
    at_start.push_back(guest.snapshot());
    published.push_back(published_stats(guest, 0, mode));
    result.guests.push_back(GuestTotals{guest.spec().name, guest.static_max_kib()});
  }
  Dom0Controller dom0(policy);
  const std::int64_t publish_every =
      static_cast<std::int64_t>(AgentConfig{}.publish_interval_seconds);

  const auto duration = static_cast<std::int64_t>(scenario.duration_seconds);
  for (std::int64_t now = 0; now < duration; ++now) {
    if (now % publish_every == 0) {
      for (std::size_t i = 0; i < guests.size(); ++i) {
        published[i] = published_stats(guests[i], agents[i].floor_kib(), mode);
      }
    }
    if (now % kDom0IntervalSeconds == 0) dom0.step(simulation, published, now);
    // The agent ticks every second, and at once when dom0 changed memory/target.
    for (std::size_t i = 0; i < guests.size(); ++i) agents[i].tick(guests[i], now);
    simulation.step();

    bool stalled = false, hard_stalled = false, capped = false;
    for (std::size_t i = 0; i < guests.size(); ++i) {
      result.guests[i].allocation_kib_seconds += guests[i].current_kib();
      const std::uint64_t stall_ns = guests[i].last_step().stall_some_ns;
      stalled = stalled || stall_ns > 0;
      hard_stalled = hard_stalled || stall_ns >= kHardStallNs;
      const std::uint64_t ceiling = guests[i].dom0_target_kib();
      capped =
          capped || (stall_ns >= kHardStallNs && guests[i].current_kib() + kKibPerMib >= ceiling &&
                     ceiling + kKibPerMib < guests[i].static_max_kib());
    }
    ++result.seconds;
    if (stalled) {
      ++result.stalled_seconds;
      result.free_kib_seconds_stalled += kib_from_pages(simulation.host().free_pages());
    }
    if (hard_stalled) {
      ++result.hard_stalled_seconds;
      if (capped) ++result.capped_stall_seconds;
      result.free_kib_seconds_hard_stalled += kib_from_pages(simulation.host().free_pages());
    }
    if (now % kSampleSeconds == 0) {
      Sample sample;
      sample.second = now;
      sample.host_free_mib =
          static_cast<double>(kib_from_pages(simulation.host().free_pages())) / kKibPerMib;
      for (const GuestModel& guest : guests) {
        sample.guests.push_back(GuestSample{
            static_cast<double>(guest.dom0_target_kib()) / kKibPerMib,
            static_cast<double>(guest.current_kib()) / kKibPerMib,
            static_cast<double>(
                guest.allocation_needed_kib(kib_from_pages(guest.workload().demand_pages()))) /
                kKibPerMib,
            psi_average_percent(guest.snapshot().psi_some.avg10)});
      }
      result.series.push_back(std::move(sample));
    }
  }

  result.waits = dom0.waits();
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const GuestSnapshot end = guests[i].snapshot();
    GuestTotals& out = result.guests[i];
    out.swapins = end.vmstat.pswpin - at_start[i].vmstat.pswpin;
    out.file_refaults =
        end.vmstat.workingset_refault_file - at_start[i].vmstat.workingset_refault_file;
    out.psi_some_ns = end.psi_some.total_ns - at_start[i].psi_some.total_ns;
    out.psi_full_ns = end.psi_full.total_ns - at_start[i].psi_full.total_ns;
    out.lost_work_ns = guests[i].lost_work_ns();  // none before the first step
    out.oom_kills = guests[i].oom_kills();
  }
  return result;
}

}  // namespace xenballoon::sim::balancer_bench
