// xenballoon-exporter and xenballoon-monitor at 10, 100 and 1000 guests on xenstored-lite: every
// guest publishes the agent's layout every 5 s (staggered, written in one transaction per
// publication over a few dom0 connections with the real libxenstore), while the bench scrapes.
// Prints scrape latency (p50/p90), scrape size, the exporter's RSS and CPU, `xenballoon-monitor
// --once` wall time (reading xenstore, and through the exporter), and the in-process render time
// of the fast path against prometheus-cpp's serializer on the same cache.
// Usage: exporter_bench [guest counts...]   (default 10 100 1000)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exposition.h"
#include "guest_publication.h"
#include "http_get.h"
#include "process.h"
#include "process_stats.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/metrics/guest_families.h"
#include "xenballoon/publish/layout.h"
#include "xs_client.h"

using namespace xenballoon;
using namespace xenballoon::testing;
using xenballoon::bench::cpu_seconds;
using xenballoon::bench::make_guest;
using xenballoon::bench::publish_guest;
using xenballoon::bench::stats_for;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kPublishInterval = 5s;
constexpr int kPublishers = 4;

struct Timed {
  double first_byte_ms = 0, total_ms = 0;
  std::string body;
};

// GET /metrics timed to the first byte (the exporter's own work: lock, render, first send) and
// to the last.
Timed timed_scrape(std::uint16_t port) {
  Timed t;
  auto start = Clock::now();
  int fd = connect_loopback(port);
  if (fd < 0) return t;
  std::string request = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::vector<char> buffer(1 << 20);
  ssize_t n;
  std::string response;
  while ((n = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0) {
    if (response.empty()) {
      t.first_byte_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    response.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  t.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  auto body = response.find("\r\n\r\n");
  if (body != std::string::npos) t.body = response.substr(body + 4);
  return t;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::optional<double> metric(const std::string& scrape, const std::string& series) {
  auto at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(scrape.substr(at + series.size() + 2));
}

struct Row {
  unsigned guests = 0;
  double scrape_p50_ms = 0, scrape_p90_ms = 0, scrape_mib = 0, first_byte_p50_ms = 0;
  double rss_mib = 0, peak_rss_mib = 0, cpu_percent = 0;
  double monitor_ms = 0, monitor_p90_ms = 0;                    // --once reading xenstore
  double monitor_exporter_ms = 0, monitor_exporter_p90_ms = 0;  // --once --exporter
  double publications_per_second = 0;
  double fast_ms = 0, reference_ms = 0;
};

// The two serializers on one cache holding `guests` agent publications, in this process.
void compare_serializers(unsigned guests, Row* row) {
  dom0::GuestCache cache;
  for (unsigned d = 1; d <= guests; ++d) {
    auto encoded = publish::encode(stats_for(d, 3));
    std::vector<std::pair<std::string, std::string>> values = {
        {"name", "guest" + std::to_string(d)},
        {"vm", "/vm/00000000-0000-4000-8000-000000000001"},
        {"memory/target", "262144"},
        {"memory/static-max", "524288"}};
    for (const auto& [key, value] : encoded.values)
      values.emplace_back("data/xenballoon/" + key, value);
    cache.put_domain(d, values, 1795663700, false);
  }
  std::vector<double> fast, reference;
  for (int i = 0; i < 15; ++i) {
    auto start = Clock::now();
    auto text = dom0::render_exposition(cache, {});
    fast.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    start = Clock::now();
    auto reference_text = dom0::render_reference_text(cache);
    reference.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (text.empty() || reference_text.empty()) std::abort();
  }
  row->fast_ms = percentile(fast, 0.5);
  row->reference_ms = percentile(reference, 0.5);
}

Row run(unsigned guests) {
  Row row;
  row.guests = guests;
  Xenstored xenstored;
  {
    XsHandle dom0(xenstored.socket());
    for (unsigned d = 1; d <= guests; ++d) make_guest(dom0, d);
  }
  // Publishers: a few dom0 connections, each serving a share of the guests, every guest once per
  // kPublishInterval, spread evenly over it.
  std::vector<std::unique_ptr<XsHandle>> handles;
  for (int p = 0; p < kPublishers; ++p)
    handles.push_back(std::make_unique<XsHandle>(xenstored.socket()));
  std::vector<bench::Published> last(guests + 1);
  for (unsigned d = 1; d <= guests; ++d) publish_guest(*handles[d % kPublishers], d, 0, &last[d]);

  TempDir dir;
  auto port = free_port();
  ChildProcess exporter({XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                         "127.0.0.1:" + std::to_string(port), "--log.level", "error"},
                        xenstored.env_for(0), dir.path() + "/exporter.log",
                        dir.path() + "/exporter.log");
  auto deadline = Clock::now() + 60s;
  while (Clock::now() < deadline) {
    auto s = http_get(port, "/metrics");
    if (metric(s.body, "xenballoon_exporter_guests") == guests) break;
    std::this_thread::sleep_for(50ms);
  }

  std::atomic<bool> running{true};
  std::atomic<long> publications{0};
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&, p] {
      std::vector<unsigned> mine;
      for (unsigned d = 1; d <= guests; ++d) {
        if (d % kPublishers == static_cast<unsigned>(p)) mine.push_back(d);
      }
      auto start = Clock::now();
      auto step = kPublishInterval / std::max<std::size_t>(mine.size(), 1);
      for (std::uint64_t round = 1; running; ++round) {
        for (std::size_t i = 0; i < mine.size() && running; ++i) {
          std::this_thread::sleep_until(start + (round - 1) * kPublishInterval + i * step);
          if (publish_guest(*handles[p], mine[i], round, &last[mine[i]])) ++publications;
        }
      }
    });
  }

  std::this_thread::sleep_for(1s);
  double cpu_before = cpu_seconds(exporter.pid());
  auto window_start = Clock::now();
  long publications_before = publications;
  std::vector<double> scrape_ms, first_byte_ms;
  std::size_t bytes = 0;
  int scrapes = guests >= 1000 ? 40 : 60;
  for (int i = 0; i < scrapes; ++i) {
    Timed t = timed_scrape(port);
    scrape_ms.push_back(t.total_ms);
    first_byte_ms.push_back(t.first_byte_ms);
    bytes = t.body.size();
    std::this_thread::sleep_for(150ms);
  }
  double window = std::chrono::duration<double>(Clock::now() - window_start).count();
  row.cpu_percent = 100.0 * (cpu_seconds(exporter.pid()) - cpu_before) / window;
  row.publications_per_second = static_cast<double>(publications - publications_before) / window;
  row.scrape_p50_ms = percentile(scrape_ms, 0.5);
  row.first_byte_p50_ms = percentile(first_byte_ms, 0.5);
  row.scrape_p90_ms = percentile(scrape_ms, 0.9);
  row.scrape_mib = static_cast<double>(bytes) / (1 << 20);
  auto status = bench::process_stats(exporter.pid()).value_or(bench::ProcessStats{});
  row.rss_mib = static_cast<double>(status.rss_kib) / 1024;
  row.peak_rss_mib = static_cast<double>(status.hwm_kib) / 1024;

  std::vector<double> monitor_ms;
  for (int i = 0; i < 7; ++i) {
    auto start = Clock::now();
    auto result = run_command({XENBALLOON_MONITOR_BIN, "--once"}, xenstored.env_for(0), 60s);
    monitor_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (result.exit_code != 0) std::fprintf(stderr, "monitor failed: %s\n", result.err.c_str());
  }
  row.monitor_ms = percentile(monitor_ms, 0.5);
  row.monitor_p90_ms = percentile(monitor_ms, 0.9);
  std::vector<double> via_exporter_ms;
  for (int i = 0; i < 7; ++i) {
    auto start = Clock::now();
    auto result = run_command(
        {XENBALLOON_MONITOR_BIN, "--once", "--exporter", "127.0.0.1:" + std::to_string(port)}, {},
        60s);
    via_exporter_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (result.exit_code != 0) std::fprintf(stderr, "monitor failed: %s\n", result.err.c_str());
  }
  row.monitor_exporter_ms = percentile(via_exporter_ms, 0.5);
  row.monitor_exporter_p90_ms = percentile(via_exporter_ms, 0.9);

  running = false;
  for (auto& t : publishers) t.join();
  compare_serializers(guests, &row);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> counts;
  for (int i = 1; i < argc; ++i) counts.push_back(static_cast<unsigned>(std::atoi(argv[i])));
  if (counts.empty()) counts = {10, 100, 1000};
  std::vector<Row> rows;
  for (unsigned n : counts) rows.push_back(run(n));
  std::printf("%-7s %10s %10s %10s %9s %8s %9s %7s %9s %11s %11s %11s %11s %12s %12s\n", "guests",
              "1st byte", "scrape p50", "scrape p90", "scrape", "RSS", "peak RSS", "CPU",
              "publish/s", "mon. xs p50", "mon. xs p90", "mon. ex p50", "mon. ex p90",
              "render fast", "render p-cpp");
  for (const auto& r : rows) {
    std::printf(
        "%-7u %7.2f ms %7.2f ms %7.2f ms %5.2f MiB %4.1f MiB %5.1f MiB %5.1f %% %9.0f %8.0f ms "
        "%8.0f ms %8.0f ms %8.0f ms %9.2f ms %9.2f ms\n",
        r.guests, r.first_byte_p50_ms, r.scrape_p50_ms, r.scrape_p90_ms, r.scrape_mib, r.rss_mib,
        r.peak_rss_mib, r.cpu_percent, r.publications_per_second, r.monitor_ms, r.monitor_p90_ms,
        r.monitor_exporter_ms, r.monitor_exporter_p90_ms, r.fast_ms, r.reference_ms);
  }
  std::printf("(1st byte: p50 time to the first byte of a scrape, the exporter's share)\n");
  std::printf(
      "(mon. xs: xenballoon-monitor --once reading xenstore; mon. ex: --once --exporter; "
      "render: in-process, fast path vs prometheus-cpp's TextSerializer)\n");
  std::printf(
      "(every guest publishes every 5 s; goals at 1000 guests: scrape p50 <= 20 ms, "
      "RSS <= 32 MiB, monitor --once <= 200 ms)\n");
  return 0;
}
