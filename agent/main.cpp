// xenballoond: the guest agent. Selfballooning and directed ballooning for Xen guests, with the
// guest's memory statistics mirrored into xenstore and onto a Prometheus endpoint.
#include <getopt.h>
#include <malloc.h>
#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "agent.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/pidfile.h"
#include "xenballoon/version.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/xenballoon/xenballoond.yaml";

constexpr const char* kUsage = R"(Usage: xenballoond [options]

Balloons a Xen guest's memory to its need (selfballooning) or to dom0's target (directed),
publishes the guest's memory statistics to xenstore (data/xenballoon/) and serves /metrics.

Options:
  -c, --config FILE            YAML configuration (default /etc/xenballoon/xenballoond.yaml;
                               built-in defaults when that file does not exist)
      --check-config           validate the configuration, print problems, exit 0 if usable
      --once                   one tick: print inputs, decision and reason, then exit
  -n, --dry-run                compute, publish and serve metrics; never write the balloon target
      --path.procfs DIR        procfs root (overrides paths.procfs)
      --path.sysfs DIR         sysfs root (overrides paths.sysfs)
      --web.listen-address A   [host]:port for /metrics (overrides web.listen_address)
      --pidfile FILE           pidfile (overrides pidfile; "" for none)
      --log.level LEVEL        debug, info, warning or error (overrides log_level)
  -V, --version                print the version
  -h, --help                   this text

Signals: SIGHUP reloads the configuration (an invalid one is refused and the old one kept);
SIGTERM/SIGINT restore the balloon target as on_exit says and exit.
xenstore is found as libxenstore finds it ($XENSTORED_PATH, then the xenbus device).
)";

}  // namespace

int main(int argc, char** argv) {
  // A few threads (HTTP workers, libxenstore's reader) would each get a malloc arena; one is
  // plenty for an agent this small and keeps its RSS down.
  mallopt(M_ARENA_MAX, 1);
  enum { kCheck = 1000, kOnce, kProcfs, kSysfs, kListen, kPidfile, kLogLevel };
  static const option kLong[] = {{"config", required_argument, nullptr, 'c'},
                                 {"check-config", no_argument, nullptr, kCheck},
                                 {"once", no_argument, nullptr, kOnce},
                                 {"dry-run", no_argument, nullptr, 'n'},
                                 {"path.procfs", required_argument, nullptr, kProcfs},
                                 {"path.sysfs", required_argument, nullptr, kSysfs},
                                 {"web.listen-address", required_argument, nullptr, kListen},
                                 {"pidfile", required_argument, nullptr, kPidfile},
                                 {"log.level", required_argument, nullptr, kLogLevel},
                                 {"version", no_argument, nullptr, 'V'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  std::string config_path;
  bool explicit_config = false, check = false, once = false, dry_run = false;
  xenballoon::agent::CliOverrides overrides;
  int opt;
  while ((opt = getopt_long(argc, argv, "c:nVh", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'c':
        config_path = optarg;
        explicit_config = true;
        break;
      case kCheck:
        check = true;
        break;
      case kOnce:
        once = true;
        break;
      case 'n':
        dry_run = true;
        break;
      case kProcfs:
        overrides.procfs = optarg;
        break;
      case kSysfs:
        overrides.sysfs = optarg;
        break;
      case kListen:
        overrides.listen_address = optarg;
        break;
      case kPidfile:
        overrides.pidfile = optarg;
        break;
      case kLogLevel: {
        const auto level = xenballoon::log::parse_level(optarg);
        if (!level) {
          std::fprintf(stderr,
                       "xenballoond: --log.level: expected debug, info, warning or error\n");
          return 2;
        }
        overrides.log_level = *level;
        break;
      }
      case 'V':
        std::printf("xenballoond %s\n", xenballoon::kVersion);
        return 0;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 2;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "xenballoond: unexpected argument \"%s\" (see --help)\n", argv[optind]);
    return 2;
  }

  xenballoon::AgentConfig config;
  if (!explicit_config) {
    struct stat st {};
    if (::stat(kDefaultConfig, &st) == 0) config_path = kDefaultConfig;
  }
  if (!config_path.empty()) {
    auto loaded = xenballoon::load_agent_config(config_path);
    if (!loaded) {
      std::fprintf(stderr, "xenballoond: invalid configuration:\n%s\n",
                   loaded.error().message.c_str());
      return 1;
    }
    config = std::move(*loaded);
  }
  overrides.apply(config);
  auto problems = xenballoon::validate(config);
  if (!problems.empty()) {
    std::fprintf(stderr, "xenballoond: invalid configuration:\n%s\n",
                 xenballoon::format_errors(problems).c_str());
    return 1;
  }
  if (check) {
    std::printf("%s: configuration is valid\n",
                config_path.empty() ? "(built-in defaults)" : config_path.c_str());
    return 0;
  }

  xenballoon::log::init("xenballoond", xenballoon::log::Level::kInfo);
  xenballoon::agent::AgentOptions options{config_path, dry_run, "", overrides};

  std::unique_ptr<xenballoon::Pidfile> pidfile;
  if (!once && !config.pidfile.empty()) {
    auto acquired = xenballoon::Pidfile::acquire(config.pidfile);
    if (!acquired) {
      std::fprintf(stderr, "xenballoond: %s\n", acquired.error().message.c_str());
      return 1;
    }
    pidfile = std::move(*acquired);
  }

  xenballoon::agent::Agent agent(std::move(config), std::move(options));
  if (once) return agent.run_once(std::cout);
  return agent.run();
}
