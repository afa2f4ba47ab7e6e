// A host and its guests stepped together in virtual time.
#pragma once

#include <cstdint>
#include <vector>

#include "xenballoon/result.h"
#include "xenballoon/sim/guest.h"
#include "xenballoon/sim/host.h"
#include "xenballoon/sim/scenario.h"

namespace xenballoon::sim {

// Owns the host and the guests of one scenario. A plain value; not thread-safe.
class Simulation {
 public:
  // Boots every guest in scenario order; fails when one does not fit the host.
  static Result<Simulation> create(const Scenario& scenario);

  // One virtual second for every guest, in scenario order (earlier guests get free host memory
  // first).
  void step();

  std::int64_t now_seconds() const { return now_seconds_; }
  const Scenario& scenario() const { return scenario_; }
  const Host& host() const { return host_; }
  std::vector<GuestModel>& guests() { return guests_; }
  const std::vector<GuestModel>& guests() const { return guests_; }

  // Host free + every guest's allocation == host total.
  bool memory_conserved() const;

 private:
  explicit Simulation(const Scenario& scenario);

  Scenario scenario_;
  Host host_;
  std::vector<GuestModel> guests_;
  std::int64_t now_seconds_ = 0;
};

}  // namespace xenballoon::sim
