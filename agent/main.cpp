// xenballoond: the guest agent. Selfballooning and directed ballooning for Xen guests, with the
// guest's memory statistics mirrored into xenstore and onto a Prometheus endpoint.
#include <malloc.h>
#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent.h"
#include "xenballoon/config/agent_config.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/result.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/pidfile.h"

namespace {

constexpr const char* kProgram = "xenballoond";
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
      --web.config.file FILE   TLS and basic auth for every endpoint, in the Prometheus
                               exporter-toolkit format (docs/security.md); re-read on SIGHUP
      --pidfile FILE           pidfile (overrides pidfile; "" for none)
      --log.level LEVEL        debug, info, warning or error (overrides log_level)
      --log.format FORMAT      text or logfmt (default text)
  -V, --version                print the version
  -h, --help                   this text

Signals: SIGHUP reloads the configuration and the web configuration (an invalid one is refused
and the old one kept);
SIGTERM/SIGINT restore the balloon target as on_exit says and exit.
xenstore is found as libxenstore finds it ($XENSTORED_PATH, then the xenbus device).
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace xenballoon;
  // A few threads (HTTP workers, libxenstore's reader) would each get a malloc arena; one is
  // plenty for an agent this small and keeps its RSS down.
  mallopt(M_ARENA_MAX, 1);
  std::string config_path;
  bool explicit_config = false, check = false, once = false, dry_run = false;
  agent::CliOverrides overrides;
  auto into = [](std::optional<std::string>* slot) {
    return [slot](std::string_view text) -> Result<void> {
      *slot = std::string(text);
      return {};
    };
  };
  // No default address here: the configuration's web.listen_address applies unless the command
  // line gives one.
  daemon::Flags flags(kProgram, kUsage);
  flags.listen_address("").web_config_file().log_level(log::Level::kInfo, /*echo_value=*/false);
  flags.log_format();
  flags.option("config", 'c', [&](std::string_view text) -> Result<void> {
    config_path = std::string(text);
    explicit_config = true;
    return {};
  });
  flags.flag("check-config", 0, &check);
  flags.flag("once", 0, &once);
  flags.flag("dry-run", 'n', &dry_run);
  flags.option("path.procfs", 0, into(&overrides.procfs));
  flags.option("path.sysfs", 0, into(&overrides.sysfs));
  flags.option("pidfile", 0, into(&overrides.pidfile));
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  const daemon::CommonFlags& common = flags.common();
  if (common.listen_address_given) overrides.listen_address = common.listen_address;
  if (common.log_level_given) overrides.log_level = common.log_level;

  AgentConfig config;
  if (!explicit_config) {
    struct stat st {};
    if (::stat(kDefaultConfig, &st) == 0) config_path = kDefaultConfig;
  }
  if (!config_path.empty()) {
    auto loaded = load_agent_config(config_path);
    if (!loaded) {
      std::fprintf(stderr, "xenballoond: invalid configuration:\n%s\n",
                   loaded.error().message.c_str());
      return 1;
    }
    config = std::move(*loaded);
  }
  overrides.apply(config);
  auto problems = validate(config);
  if (!problems.empty()) {
    std::fprintf(stderr, "xenballoond: invalid configuration:\n%s\n",
                 format_errors(problems).c_str());
    return 1;
  }
  auto web = daemon::load_web_config(common.web_config_file);
  if (!web) {
    std::fprintf(stderr, "xenballoond: invalid web configuration:\n%s\n",
                 web.error().message.c_str());
    return 1;
  }
  if (check) {
    std::printf("%s: configuration is valid\n",
                config_path.empty() ? "(built-in defaults)" : config_path.c_str());
    if (!common.web_config_file.empty()) {
      std::printf("%s: web configuration is valid\n", common.web_config_file.c_str());
    }
    return 0;
  }

  daemon::CommonFlags logging = common;
  logging.log_level = log::Level::kInfo;  // the agent sets the configured level
  daemon::init_logging(kProgram, logging);
  agent::AgentOptions options{config_path,    dry_run, "", overrides, common.web_config_file,
                              std::move(*web)};

  std::unique_ptr<Pidfile> pidfile;
  if (!once && !config.pidfile.empty()) {
    auto acquired = Pidfile::acquire(config.pidfile);
    if (!acquired) {
      std::fprintf(stderr, "xenballoond: %s\n", acquired.error().message.c_str());
      return 1;
    }
    pidfile = std::move(*acquired);
  }

  agent::Agent agent(std::move(config), std::move(options));
  if (once) return agent.run_once(std::cout);
  return agent.run();
}
