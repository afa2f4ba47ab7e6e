// xenballoon-monitor: a xentop-like table of every Xen guest's memory, read from xenstore in dom0.
#include <getopt.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "xenballoon/dom0/exposition_reader.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/guest_rates.h"
#include "xenballoon/dom0/host_memory.h"
#include "xenballoon/dom0/http_fetch.h"
#include "monitor_table.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/version.h"
#include "xenballoon/dom0/xenstore_feed.h"

namespace {

using namespace xenballoon;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = R"(Usage: xenballoon-monitor [options]

A xentop-like table of every Xen guest's memory, read from xenstore in dom0: memory (the balloon's
current size, else MemTotal), dom0's target, static-max, Committed_AS, swap-in/out, page-in/out
and major-fault rates, PSI some avg10, the age of the guest's statistics (since its agent's
heartbeat), and a totals line with the host's free memory when libxenctrl can tell.

Options:
      --once           print one table and exit. Rates need two publications of a guest: alone,
                       --once shows them as "-"; with -d N it reads twice, N seconds apart (pick N
                       above the agents' publish interval, 5 s by default)
  -d, --delay N        seconds between refreshes (default 2; fractions allowed)
  -n, --iterations N   stop after N tables (default: until interrupted)
  -s, --sort COLUMN    sort by COLUMN: id, name, src, mem, target, maxmem, commit, swin, swout,
                       pgin, pgout, majflt, psi, age (numbers largest first; default id)
  -r, --reverse        reverse the order
      --json           JSON instead of the table (one document per refresh)
      --exporter A     read a running xenballoon-exporter at [host]:port (its /metrics) instead
                       of xenstore: no xenstore round trips, and the host may be remote
      --log.level L    debug, info, warning or error (default error)
  -V, --version        print the version
  -h, --help           this text

On a terminal each refresh redraws the screen; in a pipe tables follow one another.
xenstore is found as libxenstore finds it ($XENSTORED_PATH, then the xenbus device).
Reading xenstore costs about 20 requests per guest for the first table, then watches keep the
picture current; with many guests --exporter is the cheaper way.
)";

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Lets the feed apply watch events until `deadline`.
void follow_until(dom0::XenstoreFeed& feed, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    feed.step();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto timeout = std::min(left, feed.poll_timeout());
    pollfd fd{feed.poll_fd(), POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(std::max<long long>(0, timeout.count())));
  }
  feed.step();
}

struct Sample {
  std::vector<dom0::GuestView> views;
  std::optional<dom0::HostMemory> host;
};

// Where the tables come from. Not thread-safe.
class Source {
 public:
  virtual ~Source() = default;
  virtual Result<Sample> sample() = 0;
  // Waits until `deadline`, keeping the picture current where that takes work.
  virtual void wait_until(Clock::time_point deadline) = 0;
};

// xenstore itself: one full read, then (when `watch`) watch events. Not thread-safe.
class XenstoreSource : public Source {
 public:
  explicit XenstoreSource(bool watch) : feed_(cache_, options(watch)) {
    std::string why;
    host_ = dom0::open_xenctrl_host_memory(&why);
    if (!host_) log::debug("no host memory figures: " + why);
  }
  Result<void> connect() { return feed_.connect(); }
  Result<Sample> sample() override {
    return Sample{cache_.views(), host_ ? host_->read() : std::nullopt};
  }
  void wait_until(Clock::time_point deadline) override { follow_until(feed_, deadline); }

 private:
  static dom0::FeedOptions options(bool watch) {
    dom0::FeedOptions o;
    o.watch = watch;
    return o;
  }
  dom0::GuestCache cache_;
  dom0::XenstoreFeed feed_;
  std::unique_ptr<dom0::HostMemorySource> host_;
};

// A running xenballoon-exporter's /metrics. Not thread-safe.
class ExporterSource : public Source {
 public:
  explicit ExporterSource(std::string address) : address_(std::move(address)) {}
  Result<Sample> sample() override {
    auto body = dom0::http_fetch(address_, "/metrics");
    if (!body) return body.error();
    dom0::ExpositionContent content = dom0::parse_exposition(*body);
    return Sample{std::move(content.guests), content.host};
  }
  void wait_until(Clock::time_point deadline) override { std::this_thread::sleep_until(deadline); }

 private:
  std::string address_;
};

}  // namespace

int main(int argc, char** argv) {
  enum { kOnce = 1000, kJson, kLogLevel, kExporter };
  static const option kLong[] = {{"once", no_argument, nullptr, kOnce},
                                 {"delay", required_argument, nullptr, 'd'},
                                 {"iterations", required_argument, nullptr, 'n'},
                                 {"sort", required_argument, nullptr, 's'},
                                 {"reverse", no_argument, nullptr, 'r'},
                                 {"json", no_argument, nullptr, kJson},
                                 {"exporter", required_argument, nullptr, kExporter},
                                 {"log.level", required_argument, nullptr, kLogLevel},
                                 {"version", no_argument, nullptr, 'V'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  bool once = false, json = false, reverse = false, delay_given = false;
  double delay_seconds = 2;
  std::optional<std::uint64_t> iterations;
  std::string exporter_address;
  dom0::Column sort_column = dom0::Column::kId;
  log::Level level = log::Level::kError;
  int opt;
  while ((opt = getopt_long(argc, argv, "d:n:s:rVh", kLong, nullptr)) != -1) {
    switch (opt) {
      case kOnce:
        once = true;
        break;
      case 'd': {
        auto value = parse_double(optarg);
        if (!value || *value < 0.1 || *value > 86400) {
          std::fprintf(stderr, "xenballoon-monitor: -d: expected seconds from 0.1 to 86400\n");
          return 2;
        }
        delay_seconds = *value;
        delay_given = true;
        break;
      }
      case 'n': {
        auto value = parse_u64(optarg);
        if (!value || *value == 0) {
          std::fprintf(stderr, "xenballoon-monitor: -n: expected a positive number\n");
          return 2;
        }
        iterations = value;
        break;
      }
      case 's': {
        auto column = dom0::parse_column(optarg);
        if (!column) {
          std::fprintf(stderr, "xenballoon-monitor: -s: unknown column \"%s\" (one of %s)\n",
                       optarg, dom0::column_names().c_str());
          return 2;
        }
        sort_column = *column;
        break;
      }
      case 'r':
        reverse = true;
        break;
      case kJson:
        json = true;
        break;
      case kExporter:
        exporter_address = optarg;
        break;
      case kLogLevel: {
        auto parsed = log::parse_level(optarg);
        if (!parsed) {
          std::fprintf(stderr,
                       "xenballoon-monitor: --log.level: expected debug, info, warning "
                       "or error\n");
          return 2;
        }
        level = *parsed;
        break;
      }
      case 'V':
        std::printf("xenballoon-monitor %s\n", kVersion);
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
    std::fprintf(stderr, "xenballoon-monitor: unexpected argument \"%s\" (see --help)\n",
                 argv[optind]);
    return 2;
  }
  log::init("xenballoon-monitor", level);

  std::unique_ptr<Source> source;
  if (exporter_address.empty()) {
    // One table from one read needs no watches; everything else follows changes with them.
    auto xenstore = std::make_unique<XenstoreSource>(!(once && !delay_given));
    if (auto connected = xenstore->connect(); !connected) {
      std::fprintf(stderr, "xenballoon-monitor: cannot read xenstore: %s\n",
                   connected.error().message.c_str());
      return 1;
    }
    source = std::move(xenstore);
  } else {
    source = std::make_unique<ExporterSource>(exporter_address);
  }

  dom0::RateTracker rates;
  auto take = [&]() -> std::optional<Sample> {
    auto sample = source->sample();
    if (!sample) {
      std::fprintf(stderr, "xenballoon-monitor: %s\n", sample.error().message.c_str());
      return std::nullopt;
    }
    rates.observe(sample->views, unix_now());
    return std::move(*sample);
  };
  auto delay =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay_seconds));
  std::optional<Sample> sample = take();
  if (!sample) return 1;
  if (once && delay_given) {
    source->wait_until(Clock::now() + delay);
    if (!(sample = take())) return 1;
  }
  bool terminal = ::isatty(STDOUT_FILENO) == 1;
  for (std::uint64_t shown = 0;;) {
    dom0::MonitorSnapshot snapshot =
        dom0::make_snapshot(sample->views, rates, sample->host, unix_now());
    dom0::sort_rows(snapshot.rows, sort_column, reverse);
    std::string text = json ? dom0::format_json(snapshot) : dom0::format_table(snapshot);
    if (!once && !json) text = (terminal ? "\033[H\033[2J" : (shown ? "\n" : "")) + text;
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    ++shown;
    if (once || (iterations && shown >= *iterations)) break;
    source->wait_until(Clock::now() + delay);
    // An exporter that went away for a moment: keep the last table and try again.
    if (auto next = take()) sample = std::move(next);
  }
  return 0;
}
