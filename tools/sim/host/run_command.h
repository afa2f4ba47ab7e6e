// `xenballoon-sim run`: the simulated host from start to stop.
#pragma once

#include "run_options.h"

namespace xenballoon::sim::host {

// Starts everything, runs the model in real time until a signal or the duration, stops every
// child it started. Returns the exit status: 0 after a clean stop, 1 when starting failed or a
// process it needed died.
int run_host(const RunOptions& options);

}  // namespace xenballoon::sim::host
