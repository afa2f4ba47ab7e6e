#include "run_options.h"

#include "run_dir.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim::host {

const char* const kRunUsage = R"(Usage: xenballoon-sim run [options]

Runs a simulated Xen host in real time: xenstored-lite as the host's xenstore, the memory model of
every guest of the scenario (its /proc and balloon sysfs files under <rundir>/guests/<name>/), one
real xenballoond per guest, the real xenballoon-exporter and xenballoon-balancer as dom0, and
Prometheus with the project's alert rules and Alertmanager. Runs until Ctrl-C, SIGTERM or --duration, then stops everything it
started.

Options:
      --scenario FILE          scenario YAML (default: the built-in default scenario, five guests)
      --duration SECONDS       stop after this many wall-clock seconds
      --rundir DIR             run directory (default ${XDG_RUNTIME_DIR:-/tmp}/xenballoon-sim)
      --no-prometheus          run neither Prometheus nor Alertmanager
      --no-balancer            do not run xenballoon-balancer (guests only selfballoon below
                               their initial targets)
      --base-port N            the exporter listens on 127.0.0.1:N, guest i's agent on N+1+i,
                               the balancer on the port after the last agent's (default 9751)
      --prometheus-port N      Prometheus on 127.0.0.1:N (default 9090)
      --alertmanager-port N    Alertmanager on 127.0.0.1:N (default 9093)
      --speed X                model seconds per wall-clock second (default 1; 0.1 to 100)
      --seed N                 mix N into every guest's seed (default 0: as the scenario says)
      --log.level LEVEL        debug, info, warning or error (default info)
      --xenstored-bin FILE     xenstored-lite to run
      --agent-bin FILE         xenballoond to run
      --exporter-bin FILE      xenballoon-exporter to run
      --balancer-bin FILE      xenballoon-balancer to run
      --prometheus-bin FILE    prometheus to run
      --alertmanager-bin FILE  prometheus-alertmanager to run
  -h, --help                   this text

Programs not given are looked for next to this executable as in the build tree
(../xenstored-lite/, ../../agent/, ../../exporter/, ../../balancer/), in its own directory, then
in $PATH.
)";

std::optional<int> parse_run_options(int argc, char** argv, RunOptions* out) {
  RunOptions options;
  options.run_dir = default_run_dir();
  auto port = [](const char* flag, std::uint16_t* into) {
    return [flag, into](std::string_view text) -> Result<void> {
      auto number = parse_u64(text);
      if (!number || *number < 1024 || *number > 65535) {
        return Error{std::string(flag) + ": expected a port from 1024 to 65535, got \"" +
                     std::string(text) + "\""};
      }
      *into = static_cast<std::uint16_t>(*number);
      return {};
    };
  };
  daemon::Flags flags(argv[0], kRunUsage);
  flags.log_level(log::Level::kInfo);
  flags.option("scenario", 0, &options.scenario_path);
  flags.option("duration", 0, [&](std::string_view text) -> Result<void> {
    auto seconds = parse_double(text);
    if (!seconds || *seconds <= 0) {
      return Error{"--duration: expected seconds above 0, got \"" + std::string(text) + "\""};
    }
    options.duration_seconds = *seconds;
    return {};
  });
  flags.option("rundir", 0, [&](std::string_view text) -> Result<void> {
    if (text.empty()) return Error{"--rundir: expected a directory"};
    options.run_dir = std::string(text);
    return {};
  });
  flags.flag("no-prometheus", 0, [&]() -> Result<void> {
    options.with_prometheus = false;
    return {};
  });
  flags.flag("no-balancer", 0, [&]() -> Result<void> {
    options.with_balancer = false;
    return {};
  });
  flags.option("base-port", 0, port("--base-port", &options.base_port));
  flags.option("prometheus-port", 0, port("--prometheus-port", &options.prometheus_port));
  flags.option("alertmanager-port", 0, port("--alertmanager-port", &options.alertmanager_port));
  flags.option("speed", 0, [&](std::string_view text) -> Result<void> {
    auto speed = parse_double(text);
    if (!speed || *speed < 0.1 || *speed > 100) {
      return Error{"--speed: expected 0.1 to 100, got \"" + std::string(text) + "\""};
    }
    options.speed = *speed;
    return {};
  });
  flags.option("seed", 0, [&](std::string_view text) -> Result<void> {
    auto seed = parse_u64(text);
    if (!seed) return Error{"--seed: expected a number, got \"" + std::string(text) + "\""};
    options.seed = *seed;
    return {};
  });
  flags.option("xenstored-bin", 0, &options.xenstored_bin);
  flags.option("agent-bin", 0, &options.agent_bin);
  flags.option("exporter-bin", 0, &options.exporter_bin);
  flags.option("balancer-bin", 0, &options.balancer_bin);
  flags.option("prometheus-bin", 0, &options.prometheus_bin);
  flags.option("alertmanager-bin", 0, &options.alertmanager_bin);
  if (auto code = flags.parse(argc, argv)) return code;
  options.log_level = flags.common().log_level;
  *out = std::move(options);
  return std::nullopt;
}

}  // namespace xenballoon::sim::host
