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
  // The exporter listens on base_port, guest i's agent (scenario order, from 0) on base_port+1+i.
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
  std::string prometheus_bin;
  std::string alertmanager_bin;
};

extern const char* const kRunUsage;

// Parses the arguments after "run". An Error carries the message; `help` is set for -h.
Result<RunOptions> parse_run_options(int argc, char** argv, bool* help);

// "debug", "info", "warning", "error".
std::optional<log::Level> parse_log_level(const std::string& text);

}  // namespace xenballoon::sim::host
