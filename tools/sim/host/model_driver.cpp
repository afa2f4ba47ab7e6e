#include "model_driver.h"

#include <utility>

#include "xenballoon/sim/procfs_text.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"

namespace xenballoon::sim::host {

Result<ModelDriver> ModelDriver::create(const Scenario& scenario, const std::string& guests_dir) {
  auto simulation = Simulation::create(scenario);
  if (!simulation) return simulation.error();
  std::vector<GuestTreeWriter> writers;
  for (const GuestSpec& guest : scenario.guests)
    writers.emplace_back(guests_dir + "/" + guest.name);
  return ModelDriver(std::move(*simulation), std::move(writers));
}

ModelDriver::ModelDriver(Simulation simulation, std::vector<GuestTreeWriter> writers)
    : simulation_(std::move(simulation)),
      writers_(std::move(writers)),
      read_problem_logged_(writers_.size(), false),
      write_problem_logged_(writers_.size(), false) {}

Result<void> ModelDriver::write_boot_trees() {
  for (std::size_t i = 0; i < writers_.size(); ++i) {
    auto written = writers_[i].write_all(render_guest_tree(guest(i).snapshot()));
    if (!written) return written;
  }
  return {};
}

void ModelDriver::step() {
  for (std::size_t i = 0; i < writers_.size(); ++i) adopt_agent_target(i);
  simulation_.step();
  for (std::size_t i = 0; i < writers_.size(); ++i) write_state(i);
}

void ModelDriver::adopt_agent_target(std::size_t index) {
  GuestModel& model = simulation_.guests()[index];
  auto target = writers_[index].read_target_kb();
  if (!target) {
    // The agent truncates and then writes target_kb; a read in between sees an empty file and the
    // next second gets the value. Only a lasting problem is worth a warning.
    if (read_problem_logged_[index]) return;
    read_problem_logged_[index] = true;
    log::debug(model.spec().name + ": " + target.error().message);
    return;
  }
  read_problem_logged_[index] = false;
  if (*target != model.target_kib()) model.set_target_kib(*target);
}

void ModelDriver::write_state(std::size_t index) {
  auto written = writers_[index].write_state(render_guest_tree(guest(index).snapshot()));
  if (!written) {
    if (!write_problem_logged_[index]) {
      log::warning(guest(index).spec().name + ": " + written.error().message);
    }
    write_problem_logged_[index] = true;
    return;
  }
  write_problem_logged_[index] = false;
}

Result<void> ModelDriver::follow_dom0_target(std::size_t guest_index, std::uint64_t target_kib) {
  GuestModel& model = simulation_.guests()[guest_index];
  model.set_dom0_target_kib(target_kib);
  return write_file_atomic(writers_[guest_index].path_of(kTargetKbPath),
                           std::to_string(model.target_kib()) + "\n");
}

std::vector<GuestAllocation> ModelDriver::allocations() const {
  std::vector<GuestAllocation> result;
  for (const GuestModel& model : simulation_.guests()) {
    result.push_back(
        GuestAllocation{model.spec().name, model.current_kib(), model.max_pages_kib()});
  }
  return result;
}

std::uint64_t ModelDriver::host_total_kib() const {
  return simulation_.host().total_pages() * kKibPerPage;
}

std::uint64_t ModelDriver::host_free_kib() const {
  return simulation_.host().free_pages() * kKibPerPage;
}

}  // namespace xenballoon::sim::host
