// xenballoon-monitor: a xentop-like table of every Xen guest's memory, read from xenstore in dom0.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "monitor_table.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/dom0/guest_rates.h"
#include "xenballoon/dom0/source.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/version.h"

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
      --log.format F   text or logfmt (default text)
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

}  // namespace

int main(int argc, char** argv) {
  bool once = false, json = false, reverse = false, delay_given = false;
  double delay_seconds = 2;
  std::optional<std::uint64_t> iterations;
  std::string exporter_address;
  dom0::Column sort_column = dom0::Column::kId;
  daemon::Flags flags("xenballoon-monitor", kUsage);
  flags.log_level(log::Level::kError, /*echo_value=*/false).log_format();
  flags.flag("once", 0, &once);
  flags.option("delay", 'd', [&](std::string_view text) -> Result<void> {
    auto value = parse_double(text);
    if (!value || *value < 0.1 || *value > 86400) {
      return Error{"-d: expected seconds from 0.1 to 86400"};
    }
    delay_seconds = *value;
    delay_given = true;
    return {};
  });
  flags.option("iterations", 'n', [&](std::string_view text) -> Result<void> {
    auto value = parse_u64(text);
    if (!value || *value == 0) return Error{"-n: expected a positive number"};
    iterations = value;
    return {};
  });
  flags.option("sort", 's', [&](std::string_view text) -> Result<void> {
    auto column = dom0::parse_column(text);
    if (!column) {
      return Error{"-s: unknown column \"" + std::string(text) + "\" (one of " +
                   dom0::column_names() + ")"};
    }
    sort_column = *column;
    return {};
  });
  flags.flag("reverse", 'r', &reverse);
  flags.flag("json", 0, &json);
  flags.option("exporter", 0, &exporter_address);
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  daemon::init_logging("xenballoon-monitor", flags.common());

  std::unique_ptr<dom0::Source> source;
  if (exporter_address.empty()) {
    // One table from one read needs no watches; everything else follows changes with them.
    auto xenstore = std::make_unique<dom0::XenstoreSource>(!(once && !delay_given));
    if (auto connected = xenstore->connect(); !connected) {
      std::fprintf(stderr, "xenballoon-monitor: cannot read xenstore: %s\n",
                   connected.error().message.c_str());
      return 1;
    }
    source = std::move(xenstore);
  } else {
    source = std::make_unique<dom0::ExporterSource>(exporter_address);
  }

  dom0::RateTracker rates;
  auto take = [&]() -> std::optional<dom0::Sample> {
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
  std::optional<dom0::Sample> sample = take();
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
