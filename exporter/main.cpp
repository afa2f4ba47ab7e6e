// xenballoon-exporter: the dom0 side. Serves every guest's memory statistics from xenstore (the
// xenballoond layout, the 2008 daemon's keys, XenServer's guest tools) as Prometheus metrics.
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "exposition.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/host_memory.h"
#include "xenballoon/http/server.h"
#include "xenballoon/util/log.h"
#include "xenballoon/version.h"
#include "xenballoon/dom0/xenstore_feed.h"

namespace {

using namespace xenballoon;

constexpr const char* kUsage = R"(Usage: xenballoon-exporter [options]

Exports the memory statistics of every Xen guest, read from xenstore in dom0, as Prometheus
metrics: what xenballoond publishes (data/xenballoon/), the 2008 daemon's memory/meminfo,
memory/vmstat, memory/uptime and memory/selftarget, and XenServer guest tools' data/meminfo_total
and data/meminfo_free, with each guest's memory/target and memory/static-max. Series carry the
labels domid, domain and uuid. Watches keep an in-memory cache current, so a scrape makes no
xenstore round trip. Host memory comes from libxenctrl (xc_physinfo) when a hypervisor answers.

Options:
      --web.listen-address A   [host]:port to serve /metrics and /healthz on (default :9751)
      --log.level LEVEL        debug, info, warning or error (default info)
  -V, --version                print the version
  -h, --help                   this text

xenstore is found as libxenstore finds it ($XENSTORED_PATH, then the xenbus device).
)";

const char* kLanding = R"(<!DOCTYPE html>
<html><head><title>xenballoon-exporter</title></head>
<body><h1>xenballoon-exporter</h1>
<p>Memory statistics of every Xen guest on this host.</p>
<ul><li><a href="/metrics">Metrics</a></li><li><a href="/healthz">Health</a></li></ul>
</body></html>
)";

int make_signal_fd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

}  // namespace

int main(int argc, char** argv) {
  enum { kListen = 1000, kLogLevel };
  static const option kLong[] = {{"web.listen-address", required_argument, nullptr, kListen},
                                 {"log.level", required_argument, nullptr, kLogLevel},
                                 {"version", no_argument, nullptr, 'V'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  std::string listen_address = ":9751";
  log::Level level = log::Level::kInfo;
  int opt;
  while ((opt = getopt_long(argc, argv, "Vh", kLong, nullptr)) != -1) {
    switch (opt) {
      case kListen:
        listen_address = optarg;
        break;
      case kLogLevel: {
        auto parsed = log::parse_level(optarg);
        if (!parsed) {
          std::fprintf(stderr,
                       "xenballoon-exporter: --log.level: expected debug, info, warning or "
                       "error, got \"%s\"\n",
                       optarg);
          return 2;
        }
        level = *parsed;
        break;
      }
      case 'V':
        std::printf("xenballoon-exporter %s\n", kVersion);
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
    std::fprintf(stderr, "xenballoon-exporter: unexpected argument \"%s\" (see --help)\n",
                 argv[optind]);
    return 2;
  }
  log::init("xenballoon-exporter", level);
  int signal_fd = make_signal_fd();

  dom0::GuestCache cache;
  dom0::XenstoreFeed feed(cache);
  std::string why_no_host;
  std::unique_ptr<dom0::HostMemorySource> host = dom0::open_xenctrl_host_memory(&why_no_host);
  if (!host) log::info("no host memory figures: " + why_no_host);

  std::map<std::string, http::Handler> routes;
  routes["/metrics"] = [&] {
    dom0::ScrapeContext context{&feed.status(), host ? host->read() : std::nullopt};
    return http::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                          dom0::render_exposition(cache, context)};
  };
  routes["/healthz"] = [&] {
    if (!feed.status().connected) {
      return http::Response{503, "text/plain; charset=utf-8", "not connected to xenstore\n"};
    }
    return http::Response{200, "text/plain; charset=utf-8", "ok\n"};
  };
  routes["/"] = [] { return http::Response{200, "text/html; charset=utf-8", kLanding}; };
  auto server = http::Server::start(listen_address, std::move(routes));
  if (!server) {
    log::error(server.error().message);
    return 1;
  }
  log::info(std::string("xenballoon-exporter ") + kVersion + " serving metrics on " +
            listen_address);

  bool stopping = false;
  while (!stopping) {
    feed.step();
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {feed.poll_fd(), POLLIN, 0}};
    int timeout_ms = static_cast<int>(feed.poll_timeout().count());
    if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
      log::error(std::string("poll: ") + std::strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd, &info, sizeof info) == sizeof info) stopping = true;
    }
  }
  log::info("stopping");
  http::Server::leave_running_until_exit(std::move(*server));
  ::close(signal_fd);
  return 0;
}
