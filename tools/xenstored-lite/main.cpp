// xenstored-lite: a stand-in xenstore daemon for machines without a Xen hypervisor.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon.h"
#include "tree_text.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/result.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/util/service_manager.h"

namespace {

namespace daemon = xenballoon::daemon;
namespace log = xenballoon::log;
namespace xsl = xenballoon::xenstored_lite;

constexpr const char* kProgram = "xenstored-lite";

constexpr const char* kUsage = R"(Usage: xenstored-lite [options]

A stand-in xenstore daemon speaking the xs_wire.h protocol on Unix sockets:
  <rundir>/socket              dom0 (privileged)
  <rundir>/domain/<N>/socket   guest domain N, created by INTRODUCE, removed by RELEASE

Options:
  -R, --rundir DIR        run directory (default: $XENSTORED_RUNDIR or /var/run/xenstored)
  -L, --load FILE         load a tree in `xenstore-ls -fp` format (repeatable)
  -d, --dump FILE         write the tree there on SIGUSR1 and at exit
  -F, --pid-file FILE     write the daemon's PID there
  -S, --entry-size N      entry size quota in bytes (default 2048)
  -E, --entry-nb N        nodes per domain (default 1000)
  -W, --watch-nb N        watches per domain (default 128)
  -t, --transaction N     transactions per domain (default 10)
  -A, --perm-nb N         permissions per node (default 5)
      --guest-kernel-watches N   watches a guest kernel holds itself (default 6; they count
                          against the guest's watch quota, as on a real guest)
  -V, --verbose           log every request (the same as --log.level debug)
  -N, --no-fork           accepted for compatibility (always runs in the foreground)
      --log.level LEVEL   debug, info, warning or error (default info)
      --version           print the version
  -H, --help              this text
SIGTERM or SIGINT: dump (if -d) and exit.
)";

// A handler for a quota's value: a number from 1 to `max`, given to `set`.
daemon::Flags::Handler count(std::string option, std::uint64_t max,
                             std::function<void(std::uint64_t)> set) {
  return [option = std::move(option), max,
          set = std::move(set)](std::string_view text) -> xenballoon::Result<void> {
    auto value = xenballoon::parse_u64(text);
    if (!value || *value == 0 || *value > max) {
      return xenballoon::Error{option + ": expected a number from 1 to " + std::to_string(max) +
                               ", got \"" + std::string(text) + "\""};
    }
    set(*value);
    return {};
  };
}

}  // namespace

int main(int argc, char** argv) {
  xsl::DaemonOptions options;
  const char* env_rundir = std::getenv("XENSTORED_RUNDIR");
  options.rundir = env_rundir && *env_rundir ? env_rundir : "/var/run/xenstored";
  std::vector<std::string> loads;
  std::string pid_file;
  bool verbose = false;

  // -V is --verbose here, as in the real xenstored: --version has no short letter.
  daemon::Flags flags(kProgram, kUsage);
  flags.log_level(log::Level::kInfo).short_letters(0, 'H');
  flags.option("rundir", 'R', &options.rundir);
  flags.option("load", 'L', [&](std::string_view text) -> xenballoon::Result<void> {
    loads.emplace_back(text);
    return {};
  });
  flags.option("dump", 'd', &options.dump_path);
  flags.option("pid-file", 'F', &pid_file);
  auto& quotas = options.quotas;
  flags.option("entry-size", 'S',
               count("--entry-size", 1 << 20, [&](std::uint64_t n) { quotas.max_entry_size = n; }));
  flags.option("entry-nb", 'E', count("--entry-nb", 1u << 30, [&](std::uint64_t n) {
                 quotas.max_nodes_per_domain = static_cast<std::uint32_t>(n);
               }));
  flags.option("watch-nb", 'W', count("--watch-nb", 1u << 30, [&](std::uint64_t n) {
                 quotas.max_watches_per_domain = static_cast<std::uint32_t>(n);
               }));
  flags.option("transaction", 't', count("--transaction", 1u << 30, [&](std::uint64_t n) {
                 quotas.max_transactions_per_domain = static_cast<std::uint32_t>(n);
               }));
  flags.option("perm-nb", 'A', count("--perm-nb", 1u << 16, [&](std::uint64_t n) {
                 quotas.max_perms_per_node = static_cast<std::uint32_t>(n);
               }));
  flags.option("guest-kernel-watches", 0, [&](std::string_view text) -> xenballoon::Result<void> {
    auto value = xenballoon::parse_u64(text);
    if (!value || *value > 128) {
      return xenballoon::Error{"--guest-kernel-watches: expected a number from 0 to 128, got \"" +
                               std::string(text) + "\""};
    }
    options.guest_kernel_watches = static_cast<std::uint32_t>(*value);
    return {};
  });
  flags.flag("verbose", 'V', &verbose);
  flags.flag("no-fork", 'N', [] { return xenballoon::Result<void>(); });
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  daemon::CommonFlags logging = flags.common();
  if (verbose) logging.log_level = log::Level::kDebug;
  daemon::init_logging(kProgram, logging);

  auto store = std::make_unique<xsl::Store>(options.quotas);
  for (const auto& path : loads) {
    auto text = xenballoon::read_file(path, 64 << 20);
    if (!text) {
      log::error(text.error().message);
      return 1;
    }
    auto loaded = xsl::load_tree(*store, *text, path);
    if (!loaded) {
      log::error(loaded.error().message);
      return 1;
    }
  }

  xsl::Daemon daemon(options, std::move(store));
  std::string error;
  if (!daemon.start(&error)) {
    log::error(error);
    return 1;
  }
  if (!pid_file.empty()) {
    auto written = xenballoon::write_file_atomic(pid_file, std::to_string(getpid()) + "\n");
    if (!written) {
      log::error(written.error().message);
      return 1;
    }
  }
  log::info("listening on " + options.rundir + "/socket");
  (void)xenballoon::service_manager::notify("READY=1");
  int rc = daemon.run();
  if (!pid_file.empty()) unlink(pid_file.c_str());
  return rc;
}
