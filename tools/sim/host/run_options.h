// The command line of `xenballoon-sim run`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "xenballoon/result.h"
#include "xenballoon/util/log.h"

namespace xenballoon::sim::host {

inline constexpr std::uint16_t kDefaultBasePort = 9751;
inline constexpr std::uint16_t kDefaultPrometheusPort = 9090;
inline constexpr std::uint16_t kDefaultAlertmanagerPort = 9093;

// A plain value.
struct RunOptions {
  std::string scenario_path;               // empty: the embedded default scenario
  std::optional<double> duration_seconds;  // wall-clock; none: until a signal
  std::string run_dir;
  bool with_prometheus = true;
  bool with_balancer = true;  // xenballoon-balancer moves host memory between the guests
  // The exporter listens on base_port, guest i's agent (scenario order, from 0) on base_port+1+i,
  // the balancer on the port after the last agent's.
  std::uint16_t base_port = kDefaultBasePort;
  std::uint16_t prometheus_port = kDefaultPrometheusPort;
  std::uint16_t alertmanager_port = kDefaultAlertmanagerPort;
  double speed = 1;  // model seconds per wall-clock second
  std::uint64_t seed = 0;
  log::Level log_level = log::Level::kInfo;

  // Programs; empty: searched (binaries.h).
  std::string xenstored_bin;
  std::string agent_bin;
  std::string exporter_bin;
  std::string balancer_bin;
  std::string prometheus_bin;
  std::string alertmanager_bin;
};

extern const char* const kRunUsage;

// Parses the arguments after "run" (argv[0] names the messages). nullopt: run with *out; a
// number: exit with it, everything said already (0 after --help or --version, 2 after an error).
std::optional<int> parse_run_options(int argc, char** argv, RunOptions* out);

}  // namespace xenballoon::sim::host
