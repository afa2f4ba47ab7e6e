// The memory model run live: each step adopts the balloon targets the agents wrote, advances the
// simulation one model second and rewrites every guest's /proc and /sys files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xenballoon/result.h"
#include "xenballoon/sim/simulation.h"
#include "xenballoon/sim/tree_writer.h"

namespace xenballoon::sim::host {

// One guest's allocation as the hypervisor sees it. A plain value.
struct GuestAllocation {
  std::string name;
  std::uint64_t current_kib = 0;    // pages the domain holds (xl list's Mem)
  std::uint64_t max_pages_kib = 0;  // Xen's max_pages: dom0's target + 1 MiB
};

// Owns the Simulation and one GuestTreeWriter per guest (trees at <guests_dir>/<name>).
// Not thread-safe: one thread steps it.
class ModelDriver {
 public:
  static Result<ModelDriver> create(const Scenario& scenario, const std::string& guests_dir);

  // Writes every guest's whole tree, target_kb included: the state the agents start from.
  Result<void> write_boot_trees();

  // One model second (docs/simulation.md, "A live loop per guest"): a target_kb the agent changed
  // is handed to the balloon driver, every guest is stepped, the trees are rewritten except
  // target_kb. Problems are logged, not returned: one bad second must not stop the host.
  void step();

  // dom0 wrote memory/target (xl mem-set): Xen's max_pages and the driver's target follow, and
  // target_kb shows the driver's new target as the kernel's sysfs file would.
  Result<void> follow_dom0_target(std::size_t guest_index, std::uint64_t target_kib);

  // `xenballoon-sim workload`: what runs in the guest changes from the next step on.
  void set_workload(std::size_t guest_index, const WorkloadSpec& workload) {
    simulation_.guests()[guest_index].set_workload(workload);
  }

  std::size_t guest_count() const { return simulation_.guests().size(); }
  const GuestModel& guest(std::size_t index) const { return simulation_.guests()[index]; }
  const std::string& tree_root(std::size_t index) const { return writers_[index].root(); }
  std::int64_t now_seconds() const { return simulation_.now_seconds(); }
  std::vector<GuestAllocation> allocations() const;
  // The host's memory for guests as Xen would report it (xc_physinfo), in KiB.
  std::uint64_t host_total_kib() const;
  std::uint64_t host_free_kib() const;

 private:
  ModelDriver(Simulation simulation, std::vector<GuestTreeWriter> writers);

  void adopt_agent_target(std::size_t index);
  void write_state(std::size_t index);

  Simulation simulation_;
  std::vector<GuestTreeWriter> writers_;
  // Per guest: a problem already logged, so a lasting one is not logged every second.
  std::vector<bool> read_problem_logged_;
  std::vector<bool> write_problem_logged_;
};

}  // namespace xenballoon::sim::host
