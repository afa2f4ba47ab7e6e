// xenballoon-balancer: the dom0 policy daemon. Reads every guest's published memory statistics
// from xenstore and moves host memory to the guests that need it by setting their balloon
// targets (balance::plan_step, the daemon in balancer.cpp).
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "balancer.h"
#include "config.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/dom0/target_setter.h"
#include "xenballoon/result.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/pidfile.h"

namespace {

constexpr const char* kProgram = "xenballoon-balancer";

constexpr const char* kUsage = R"(Usage: xenballoon-balancer [options]

Moves host memory to the Xen guests that need it: every interval it reads what each guest's
agent publishes in xenstore, shares the host's memory among the guests by need and weight within
their bounds (shrinks first, grows only from memory that is free), and sets their balloon
targets. Serves /metrics and /healthz.

Options:
  -c, --config FILE            YAML configuration (default
                               /etc/xenballoon/xenballoon-balancer.yaml; built-in defaults when
                               that file does not exist)
      --check-config           validate the configuration, print problems, exit 0 if usable
  -n, --dry-run                compute, log and export targets; never set one
      --host-memory-file FILE  host memory ("total_kib free_kib") when no hypervisor answers
      --target-setter KIND     how targets are set: libxl (libxl_set_memory_target, as xl
                               mem-set: also raises max_pages; needed on real Xen), xenstore
                               (memory/target only) or auto (default: libxl when it opens,
                               else xenstore)
      --pidfile FILE           pidfile (overrides pidfile; "" for none)
      --web.listen-address A   [host]:port for /metrics (overrides web.listen_address)
      --web.config.file FILE   TLS and basic auth for every endpoint, in the Prometheus
                               exporter-toolkit format (docs/security.md); re-read on SIGHUP
      --log.level LEVEL        debug, info, warning or error (overrides log_level)
      --log.format FORMAT      text or logfmt (default text)
  -V, --version                print the version
  -h, --help                   this text

Host memory comes from libxenctrl (xc_physinfo) when a hypervisor answers, else from
--host-memory-file; without either nothing is balanced and /healthz answers 503.
Signals: SIGHUP reloads the configuration and the web configuration (an invalid one is refused
and the old one kept);
SIGTERM/SIGINT stop, leaving every target as it is.
xenstore is found as libxenstore finds it ($XENSTORED_PATH, then the xenbus device).
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace xenballoon;
  std::string config_path;
  bool explicit_config = false, check = false, dry_run = false;
  balancer::Options options;
  balancer::CliOverrides& overrides = options.overrides;

  daemon::Flags flags(kProgram, kUsage);
  flags.listen_address("").web_config_file().log_level(log::Level::kInfo, /*echo_value=*/false);
  flags.log_format();
  flags.option("config", 'c', [&](std::string_view text) -> Result<void> {
    config_path = std::string(text);
    explicit_config = true;
    return {};
  });
  flags.flag("check-config", 0, &check);
  flags.flag("dry-run", 'n', &dry_run);
  flags.option("host-memory-file", 0, &options.host_memory_file);
  std::string target_setter = "auto";
  flags.option("target-setter", 0, [&](std::string_view text) -> Result<void> {
    if (text == "xenstore" || text == "libxl" || text == "auto") {
      target_setter = std::string(text);
      return {};
    }
    return Error{"--target-setter: expected auto, libxl or xenstore, got \"" + std::string(text) +
                 "\""};
  });
  flags.option("pidfile", 0, [&](std::string_view text) -> Result<void> {
    overrides.pidfile = std::string(text);
    return {};
  });
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  const daemon::CommonFlags& common = flags.common();
  if (common.listen_address_given) overrides.listen_address = common.listen_address;
  if (common.log_level_given) overrides.log_level = common.log_level;
  overrides.dry_run = dry_run;

  balancer::BalancerConfig config;
  if (!explicit_config) {
    struct stat st {};
    if (::stat(balancer::kDefaultConfigPath, &st) == 0) config_path = balancer::kDefaultConfigPath;
  }
  if (!config_path.empty()) {
    auto loaded = balancer::load_balancer_config(config_path);
    if (!loaded) {
      std::fprintf(stderr, "%s: invalid configuration:\n%s\n", kProgram,
                   loaded.error().message.c_str());
      return 1;
    }
    config = std::move(*loaded);
  }
  overrides.apply(config);
  auto problems = balancer::validate(config);
  if (!problems.empty()) {
    std::fprintf(stderr, "%s: invalid configuration:\n%s\n", kProgram,
                 format_errors(problems).c_str());
    return 1;
  }
  auto web = daemon::load_web_config(common.web_config_file);
  if (!web) {
    std::fprintf(stderr, "%s: invalid web configuration:\n%s\n", kProgram,
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
  logging.log_level = config.log_level;
  daemon::init_logging(kProgram, logging);

  std::unique_ptr<Pidfile> pidfile;
  if (!config.pidfile.empty()) {
    auto acquired = Pidfile::acquire(config.pidfile);
    if (!acquired) {
      std::fprintf(stderr, "%s: %s\n", kProgram, acquired.error().message.c_str());
      return 1;
    }
    pidfile = std::move(*acquired);
  }

  if (target_setter != "xenstore") {
    std::string why_not;
    std::shared_ptr<dom0::TargetSetter> libxl = dom0::open_libxl_target_setter(&why_not);
    if (libxl) {
      log::info("setting targets through libxl (libxl_set_memory_target)");
      options.target_setter = std::move(libxl);
    } else if (target_setter == "libxl") {
      std::fprintf(stderr, "%s: --target-setter libxl: %s\n", kProgram, why_not.c_str());
      return 1;
    } else {
      log::info("setting targets through xenstore (memory/target): libxl unavailable (" + why_not +
                ")");
    }
  } else {
    log::info("setting targets through xenstore (memory/target)");
  }

  options.config_path = config_path;
  options.web_config_file = common.web_config_file;
  options.web = std::move(*web);
  balancer::Balancer balancer(std::move(config), std::move(options));
  return balancer.run();
}
