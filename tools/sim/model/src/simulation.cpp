#include "xenballoon/sim/simulation.h"

namespace xenballoon::sim {

Simulation::Simulation(const Scenario& scenario)
    : scenario_(scenario), host_(pages_from_mib(scenario.host.memory_mib)) {}

Result<Simulation> Simulation::create(const Scenario& scenario) {
  Simulation simulation(scenario);
  BalloonDriverSettings balloon;
  balloon.rate_pages_per_second = pages_from_mib(scenario.host.balloon_rate_mib_per_s);
  for (const GuestSpec& spec : scenario.guests) {
    auto guest = GuestModel::boot(spec, balloon, simulation.host_);
    if (!guest) return Error{"scenario \"" + scenario.name + "\": " + guest.error().message};
    simulation.guests_.push_back(std::move(*guest));
  }
  return simulation;
}

void Simulation::step() {
  for (GuestModel& guest : guests_) guest.step(host_);
  ++now_seconds_;
}

bool Simulation::memory_conserved() const {
  std::uint64_t allocated = 0;
  for (const GuestModel& guest : guests_) allocated += pages_from_kib(guest.current_kib());
  return allocated == host_.allocated_pages() &&
         host_.free_pages() + allocated == host_.total_pages();
}

}  // namespace xenballoon::sim
