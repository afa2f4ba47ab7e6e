// Finding the programs the simulator runs: a flag, the build tree next to this executable, the
// directory of this executable, then $PATH.
#pragma once

#include <string>
#include <vector>

#include "run_options.h"
#include "xenballoon/result.h"

namespace xenballoon::sim::host {

// One program to find. A plain value.
struct ProgramLookup {
  std::string display_name;   // "xenballoond", "Prometheus"
  std::string explicit_path;  // from a flag; when set, nothing else is tried
  // Relative to this executable's directory, in order ("../../agent/xenballoond").
  std::vector<std::string> relative_candidates;
  std::vector<std::string> path_names;  // looked up in $PATH, in order
  std::string how_to_get_it;            // appended to the error ("build it with ...")
};

// The directory of the running executable (/proc/self/exe), or "" when unknown.
std::string own_directory();

// The first executable candidate, as a normalised path. The error lists every place looked at.
Result<std::string> find_program(const ProgramLookup& lookup);

// The programs of one run, found before anything starts. A plain value.
struct HostPrograms {
  std::string xenstored;
  std::string agent;
  std::string exporter;
  std::string balancer;  // empty with --no-balancer
  std::string monitor;   // only shown to the user; empty when not found
  std::string prometheus;
  std::string alertmanager;
};

// Every program `options` needs (Prometheus and Alertmanager only with_prometheus); the error
// names each one missing, where it was looked for and how to get it.
Result<HostPrograms> find_host_programs(const RunOptions& options);

}  // namespace xenballoon::sim::host
