#include "run_options.h"

#include <getopt.h>

#include "run_dir.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::sim::host {

const char* const kRunUsage = R"(Usage: xenballoon-sim run [options]

Runs a simulated Xen host in real time: xenstored-lite as the host's xenstore, the memory model of
every guest of the scenario (its /proc and balloon sysfs files under <rundir>/guests/<name>/), one
real xenballoond per guest, the real xenballoon-exporter as dom0, and Prometheus with the project's
alert rules and Alertmanager. Runs until Ctrl-C, SIGTERM or --duration, then stops everything it
started.

Options:
      --scenario FILE          scenario YAML (default: the built-in default scenario, five guests)
      --duration SECONDS       stop after this many wall-clock seconds
      --rundir DIR             run directory (default ${XDG_RUNTIME_DIR:-/tmp}/xenballoon-sim)
      --no-prometheus          run neither Prometheus nor Alertmanager
      --base-port N            the exporter listens on 127.0.0.1:N, guest i's agent on N+1+i
                               (default 9751)
      --prometheus-port N      Prometheus on 127.0.0.1:N (default 9090)
      --alertmanager-port N    Alertmanager on 127.0.0.1:N (default 9093)
      --speed X                model seconds per wall-clock second (default 1; 0.1 to 100)
      --seed N                 mix N into every guest's seed (default 0: as the scenario says)
      --log.level LEVEL        debug, info, warning or error (default info)
      --xenstored-bin FILE     xenstored-lite to run
      --agent-bin FILE         xenballoond to run
      --exporter-bin FILE      xenballoon-exporter to run
      --prometheus-bin FILE    prometheus to run
      --alertmanager-bin FILE  prometheus-alertmanager to run
  -h, --help                   this text

Programs not given are looked for next to this executable as in the build tree
(../xenstored-lite/, ../../agent/, ../../exporter/), in its own directory, then in $PATH.
)";

Result<RunOptions> parse_run_options(int argc, char** argv, bool* help) {
  enum {
    kScenario = 1000,
    kDuration,
    kRunDir,
    kNoPrometheus,
    kBasePort,
    kPrometheusPort,
    kAlertmanagerPort,
    kSpeed,
    kSeed,
    kLogLevel,
    kXenstoredBin,
    kAgentBin,
    kExporterBin,
    kPrometheusBin,
    kAlertmanagerBin,
  };
  static const option kLong[] = {
      {"scenario", required_argument, nullptr, kScenario},
      {"duration", required_argument, nullptr, kDuration},
      {"rundir", required_argument, nullptr, kRunDir},
      {"no-prometheus", no_argument, nullptr, kNoPrometheus},
      {"base-port", required_argument, nullptr, kBasePort},
      {"prometheus-port", required_argument, nullptr, kPrometheusPort},
      {"alertmanager-port", required_argument, nullptr, kAlertmanagerPort},
      {"speed", required_argument, nullptr, kSpeed},
      {"seed", required_argument, nullptr, kSeed},
      {"log.level", required_argument, nullptr, kLogLevel},
      {"xenstored-bin", required_argument, nullptr, kXenstoredBin},
      {"agent-bin", required_argument, nullptr, kAgentBin},
      {"exporter-bin", required_argument, nullptr, kExporterBin},
      {"prometheus-bin", required_argument, nullptr, kPrometheusBin},
      {"alertmanager-bin", required_argument, nullptr, kAlertmanagerBin},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  RunOptions options;
  options.run_dir = default_run_dir();
  *help = false;
  auto port = [](const char* flag, const char* text) -> Result<std::uint16_t> {
    auto number = parse_u64(text);
    if (!number || *number < 1024 || *number > 65535) {
      return Error{std::string(flag) + ": expected a port from 1024 to 65535, got \"" + text +
                   "\""};
    }
    return static_cast<std::uint16_t>(*number);
  };
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "h", kLong, nullptr)) != -1) {
    switch (opt) {
      case kScenario:
        options.scenario_path = optarg;
        break;
      case kDuration: {
        auto seconds = parse_double(optarg);
        if (!seconds || *seconds <= 0) {
          return Error{std::string("--duration: expected seconds above 0, got \"") + optarg + "\""};
        }
        options.duration_seconds = *seconds;
        break;
      }
      case kRunDir:
        if (!*optarg) return Error{"--rundir: expected a directory"};
        options.run_dir = optarg;
        break;
      case kNoPrometheus:
        options.with_prometheus = false;
        break;
      case kBasePort: {
        auto parsed = port("--base-port", optarg);
        if (!parsed) return parsed.error();
        options.base_port = *parsed;
        break;
      }
      case kPrometheusPort: {
        auto parsed = port("--prometheus-port", optarg);
        if (!parsed) return parsed.error();
        options.prometheus_port = *parsed;
        break;
      }
      case kAlertmanagerPort: {
        auto parsed = port("--alertmanager-port", optarg);
        if (!parsed) return parsed.error();
        options.alertmanager_port = *parsed;
        break;
      }
      case kSpeed: {
        auto speed = parse_double(optarg);
        if (!speed || *speed < 0.1 || *speed > 100) {
          return Error{std::string("--speed: expected 0.1 to 100, got \"") + optarg + "\""};
        }
        options.speed = *speed;
        break;
      }
      case kSeed: {
        auto seed = parse_u64(optarg);
        if (!seed) return Error{std::string("--seed: expected a number, got \"") + optarg + "\""};
        options.seed = *seed;
        break;
      }
      case kLogLevel: {
        auto level = log::parse_level(optarg);
        if (!level) {
          return Error{std::string("--log.level: expected debug, info, warning or error, got \"") +
                       optarg + "\""};
        }
        options.log_level = *level;
        break;
      }
      case kXenstoredBin:
        options.xenstored_bin = optarg;
        break;
      case kAgentBin:
        options.agent_bin = optarg;
        break;
      case kExporterBin:
        options.exporter_bin = optarg;
        break;
      case kPrometheusBin:
        options.prometheus_bin = optarg;
        break;
      case kAlertmanagerBin:
        options.alertmanager_bin = optarg;
        break;
      case 'h':
        *help = true;
        return options;
      default:
        return Error{"see xenballoon-sim run --help"};
    }
  }
  if (optind < argc) {
    return Error{std::string("unexpected argument \"") + argv[optind] + "\" (see --help)"};
  }
  return options;
}

}  // namespace xenballoon::sim::host
