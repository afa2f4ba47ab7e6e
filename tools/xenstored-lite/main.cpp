// xenstored-lite: a stand-in xenstore daemon for machines without a Xen hypervisor.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon.h"
#include "tree_text.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/util/service_manager.h"

namespace {

namespace log = xenballoon::log;
namespace xsl = xenballoon::xenstored_lite;

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
  -V, --verbose           log every request (debug level)
  -N, --no-fork           accepted for compatibility (always runs in the foreground)
  -H, --help              this text
SIGTERM or SIGINT: dump (if -d) and exit.
)";

bool parse_count(const char* text, const char* option, std::uint64_t max, std::uint64_t* out) {
  auto value = xenballoon::parse_u64(text ? text : "");
  if (!value || *value == 0 || *value > max) {
    log::error(std::string(option) + ": expected a number from 1 to " + std::to_string(max) +
               ", got \"" + (text ? text : "") + "\"");
    return false;
  }
  *out = *value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  log::init("xenstored-lite", log::Level::kInfo);
  xsl::DaemonOptions options;
  const char* env_rundir = std::getenv("XENSTORED_RUNDIR");
  options.rundir = env_rundir && *env_rundir ? env_rundir : "/var/run/xenstored";
  std::vector<std::string> loads;
  std::string pid_file;

  static const option kLong[] = {{"rundir", required_argument, nullptr, 'R'},
                                 {"load", required_argument, nullptr, 'L'},
                                 {"dump", required_argument, nullptr, 'd'},
                                 {"pid-file", required_argument, nullptr, 'F'},
                                 {"entry-size", required_argument, nullptr, 'S'},
                                 {"entry-nb", required_argument, nullptr, 'E'},
                                 {"watch-nb", required_argument, nullptr, 'W'},
                                 {"transaction", required_argument, nullptr, 't'},
                                 {"perm-nb", required_argument, nullptr, 'A'},
                                 {"verbose", no_argument, nullptr, 'V'},
                                 {"no-fork", no_argument, nullptr, 'N'},
                                 {"help", no_argument, nullptr, 'H'},
                                 {nullptr, 0, nullptr, 0}};
  int opt;
  std::uint64_t n = 0;
  while ((opt = getopt_long(argc, argv, "R:L:d:F:S:E:W:t:A:VNH", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'R':
        options.rundir = optarg;
        break;
      case 'L':
        loads.emplace_back(optarg);
        break;
      case 'd':
        options.dump_path = optarg;
        break;
      case 'F':
        pid_file = optarg;
        break;
      case 'S':
        if (!parse_count(optarg, "--entry-size", 1 << 20, &n)) return 2;
        options.quotas.max_entry_size = n;
        break;
      case 'E':
        if (!parse_count(optarg, "--entry-nb", 1u << 30, &n)) return 2;
        options.quotas.max_nodes_per_domain = static_cast<std::uint32_t>(n);
        break;
      case 'W':
        if (!parse_count(optarg, "--watch-nb", 1u << 30, &n)) return 2;
        options.quotas.max_watches_per_domain = static_cast<std::uint32_t>(n);
        break;
      case 't':
        if (!parse_count(optarg, "--transaction", 1u << 30, &n)) return 2;
        options.quotas.max_transactions_per_domain = static_cast<std::uint32_t>(n);
        break;
      case 'A':
        if (!parse_count(optarg, "--perm-nb", 1u << 16, &n)) return 2;
        options.quotas.max_perms_per_node = static_cast<std::uint32_t>(n);
        break;
      case 'V':
        log::set_level(log::Level::kDebug);
        break;
      case 'N':
        break;
      case 'H':
        std::fputs(kUsage, stdout);
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 2;
    }
  }
  if (optind < argc) {
    log::error(std::string("unexpected argument \"") + argv[optind] + "\"");
    std::fputs(kUsage, stderr);
    return 2;
  }

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
