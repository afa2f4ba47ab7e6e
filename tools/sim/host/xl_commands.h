// `xenballoon-sim mem-set` and `xenballoon-sim list`: xl's commands against a running simulator.
#pragma once

namespace xenballoon::sim::host {

extern const char* const kMemSetUsage;
extern const char* const kListUsage;

// Each takes the arguments after the command name and returns the exit status.
int mem_set_command(int argc, char** argv);
int list_command(int argc, char** argv);

}  // namespace xenballoon::sim::host
