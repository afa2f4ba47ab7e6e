// xenballoon-exporter: the dom0 side. Serves every guest's memory statistics from xenstore (the
// xenballoond layout, the 2008 daemon's keys, XenServer's guest tools) as Prometheus metrics.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "exposition.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/daemon/loop.h"
#include "xenballoon/daemon/signals.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/host_memory.h"
#include "xenballoon/dom0/xenstore_feed.h"
#include "xenballoon/http/server.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/service_manager.h"
#include "xenballoon/version.h"

namespace {

using namespace xenballoon;

constexpr const char* kUsage = R"(Usage: xenballoon-exporter [options]

Exports the memory statistics of every Xen guest, read from xenstore in dom0, as Prometheus
metrics: what xenballoond publishes (data/xenballoon/), the 2008 daemon's memory/meminfo,
memory/vmstat, memory/uptime and memory/selftarget, and XenServer guest tools' data/meminfo_total
and data/meminfo_free, with each guest's memory/target and memory/static-max. Series carry the
labels domid, domain and uuid. Watches keep an in-memory cache current, so a scrape makes no
xenstore round trip. Host memory comes from libxenctrl (xc_physinfo) when a hypervisor answers,
else from --host-memory-file.

Options:
      --web.listen-address A   [host]:port to serve /metrics and /healthz on (default :9751)
      --web.config.file FILE   TLS and basic auth for every endpoint, in the Prometheus
                               exporter-toolkit format (docs/security.md); re-read on SIGHUP
      --check-config           validate --web.config.file, print its problems, exit 0 if usable
      --host-memory-file FILE  host memory ("total_kib free_kib") when no hypervisor answers
      --log.level LEVEL        debug, info, warning or error (default info)
      --log.format FORMAT      text or logfmt (default text)
  -V, --version                print the version
  -h, --help                   this text

Signals: SIGHUP reloads --web.config.file (an invalid one is refused and the old one kept);
SIGTERM/SIGINT stop.
xenstore is found as libxenstore finds it ($XENSTORED_PATH, then the xenbus device).
)";

constexpr const char* kProgram = "xenballoon-exporter";

}  // namespace

int main(int argc, char** argv) {
  daemon::Flags flags(kProgram, kUsage);
  flags.listen_address(":9751").web_config_file().log_level(log::Level::kInfo).log_format();
  std::string host_memory_file;
  bool check = false;
  flags.option("host-memory-file", 0, &host_memory_file);
  flags.flag("check-config", 0, &check);
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  const std::string& listen_address = flags.common().listen_address;
  const std::string& web_config_file = flags.common().web_config_file;
  auto web = daemon::load_web_config(web_config_file);
  if (!web) {
    std::fprintf(stderr, "%s: invalid web configuration:\n%s\n", kProgram,
                 web.error().message.c_str());
    return 1;
  }
  if (check) {
    std::printf("%s: web configuration is valid\n", web_config_file.empty()
                                                        ? "(no --web.config.file: plain HTTP)"
                                                        : web_config_file.c_str());
    return 0;
  }
  daemon::init_logging(kProgram, flags.common());
  // Before libxenstore starts its threads, so that they inherit the blocked signals.
  auto signals = daemon::SignalSet::open({SIGHUP});
  if (!signals) {
    log::error(signals.error().message);
    return 1;
  }

  dom0::GuestCache cache;
  dom0::XenstoreFeed feed(cache);
  std::string why_no_host;
  std::unique_ptr<dom0::HostMemorySource> host = dom0::open_xenctrl_host_memory(&why_no_host);
  if (!host && !host_memory_file.empty()) {
    log::info("no hypervisor answers (" + why_no_host + "): host memory from the file " +
              host_memory_file);
    host = std::make_unique<dom0::FileHostMemory>(host_memory_file);
  } else if (!host) {
    log::info("no host memory figures: " + why_no_host);
  }

  auto routes = daemon::standard_routes(
      kProgram, "Memory statistics of every Xen guest on this host.",
      [&] {
        dom0::ScrapeContext context{&feed.status(), host ? host->read() : std::nullopt};
        std::string text = dom0::render_exposition(cache, context);
        daemon::append_reload_errors(text, metrics::kExporterConfigReloadErrors);
        return text;
      },
      [&] {
        if (!feed.status().connected) return daemon::Health{false, "not connected to xenstore\n"};
        return daemon::Health{};
      });
  const bool tls = web->tls.has_value();
  auto server = http::Server::start(listen_address, std::move(routes), 2, std::move(*web));
  if (!server) {
    log::error(server.error().message);
    return 1;
  }
  log::info(std::string(kProgram) + " " + kVersion + " serving metrics on " + listen_address +
            (tls ? " (TLS)" : ""));

  // Each pass lets the feed read what its watches reported, then waits for more, a signal, or
  // the feed's next due step.
  // Type=notify: ready once it serves; the watchdog (WatchdogSec=) is fed from its own timer.
  if (auto sent = service_manager::notify("READY=1"); !sent) log::warning(sent.error().message);
  daemon::Loop loop(*signals);
  if (const auto watchdog = service_manager::watchdog_interval()) {
    loop.schedule_every(daemon::Loop::Clock::now(),
                        std::chrono::duration_cast<daemon::Loop::Clock::duration>(*watchdog / 2),
                        [] { (void)service_manager::notify("WATCHDOG=1"); });
  }
  loop.on_reload([&] {
    if (web_config_file.empty()) {
      log::info("SIGHUP: no --web.config.file to reload");
      return;
    }
    daemon::reload_web_config(**server, web_config_file);
  });
  const daemon::Loop::Id watches = loop.add_fd(-1, nullptr);
  loop.before_poll([&] {
    feed.step();
    loop.set_fd(watches, feed.poll_fd());
    loop.wake_at(daemon::Loop::Clock::now() + feed.poll_timeout());
  });
  if (auto ran = loop.run(); !ran) log::error(ran.error().message);
  (void)service_manager::notify("STOPPING=1");
  log::info("stopping");
  http::Server::leave_running_until_exit(std::move(*server));
  return 0;
}
