// `xenballoon-sim workload`: what runs in a guest of the running simulator, changed live. The
// command writes a request file, <rundir>/control/workload-<domid>; the simulator takes it before
// its next model second (GuestModel::set_workload) and removes it, which the command waits for.
#pragma once

#include <optional>
#include <string>

#include "run_dir.h"
#include "xenballoon/result.h"
#include "xenballoon/sim/workload.h"

namespace xenballoon::sim::host {

class ModelDriver;

// One request. A plain value.
struct WorkloadRequest {
  std::uint64_t base_mib = 0;         // the guest's workload becomes one steady service this size
  std::optional<double> hot_percent;  // of its memory touched often (AccessPattern::hot_percent)
};

// "base_mib N\n[hot_percent P\n]"; the parser refuses anything else.
std::string render_workload_request(const WorkloadRequest& request);
Result<WorkloadRequest> parse_workload_request(const std::string& text);

// `current` with the request applied: a steady service of base_mib; the noise, the restart delay
// and the access pattern stay (hot_percent replaced when given).
WorkloadSpec apply_workload_request(const WorkloadSpec& current, const WorkloadRequest& request);

// The simulator's side, once per model second before the step: every pending request is removed
// and applied to its guest (domid = position in the scenario + 1). Problems are logged.
void take_workload_requests(const RunDir& run_dir, ModelDriver& driver);

extern const char* const kWorkloadUsage;

// The command; takes the arguments after its name and returns the exit status.
int workload_command(int argc, char** argv);

}  // namespace xenballoon::sim::host
