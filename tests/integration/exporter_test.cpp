// xenballoon-exporter as a process against xenstored-lite: a golden scrape of the fixture host
// (tests/fixtures/dom0/, golden tests/golden/exporter-metrics.txt), promtool's lint, watch-driven
// updates, domain churn, hostile guests writing through their own sockets, and a xenstored
// restart.
// XENBALLOON_UPDATE_GOLDEN=1 rewrites the golden file.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "fault_control.h"
#include "guest_env.h"
#include "http_get.h"
#include "metrics_doc.h"
#include "process.h"
#include "xs_client.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;

namespace {

const std::string kFixtureTree = std::string(XENBALLOON_FIXTURES) + "/dom0/xenstore-tree.txt";
const std::string kGolden = std::string(XENBALLOON_GOLDEN) + "/exporter-metrics.txt";
const std::string kWeb = R"(domid="1",domain="web",uuid="632ea78c-e949-11f1-9b01-4b366020df3b")";

// Families whose values depend on the clock, not on the fixtures.
const std::set<std::string> kVolatile = {"xenballoon_last_update_timestamp_seconds",
                                         "xenballoon_exporter_scrape_duration_seconds"};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  return GuestEnv::wait_until(predicate, timeout);
}

// The exporter binary, killed by PID when the object goes away.
class Exporter {
 public:
  explicit Exporter(const Xenstored& xenstored) {
    port_ = free_port();
    process_ = ChildProcess({XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                             "127.0.0.1:" + std::to_string(port_), "--log.level", "debug"},
                            xenstored.env_for(0), log_path(), log_path());
    wait_until([&] { return http_get(port_, "/healthz").status == 200 || !process_.running(); },
               10s);
  }
  std::string scrape() const { return http_get(port_, "/metrics").body; }
  std::string log() const { return slurp(log_path()); }
  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return process_; }
  // SIGTERM; true when the exporter exits cleanly (under the sanitizers: without leaks).
  bool stops_cleanly() {
    int status = process_.stop(SIGTERM, 15s);
    return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  // VmRSS of the exporter in KiB.
  std::uint64_t rss_kib() const {
    std::istringstream in(slurp("/proc/" + std::to_string(process_.pid()) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return 0;
  }

 private:
  std::string log_path() const { return dir_.path() + "/exporter.log"; }
  TempDir dir_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
};

// The value of one series ("name{labels}" exactly as exposed), if present.
std::optional<double> value_of(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

bool has_series_of_domid(const std::string& scrape, unsigned domid) {
  return scrape.find("{domid=\"" + std::to_string(domid) + "\"") != std::string::npos;
}

std::string normalise(const std::string& scrape) {
  std::istringstream in(scrape);
  std::string line, out;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find_first_of("{ "));
    if (!line.empty() && line[0] != '#' && kVolatile.count(name)) {
      line = line.substr(0, line.rfind(' ')) + " <volatile>";
    }
    out += line + "\n";
  }
  return out;
}

// promtool's parser and lint; returns its complaints ("" when clean).
std::string promtool_problems(const std::string& scrape) {
  TempDir tmp;
  std::ofstream(tmp.path() + "/scrape.txt") << scrape;
  auto lint = run_command({"sh", "-c", "promtool check metrics < " + tmp.path() + "/scrape.txt"});
  if (lint.exit_code == 0) return "";
  return "exit " + std::to_string(lint.exit_code) + ": " + lint.out + lint.err;
}

// A guest laid out as libxl does: dom0-owned keys the guest may read, data/ its own.
void make_guest(XsHandle& dom0, unsigned domid, const std::string& name) {
  std::string home = "/local/domain/" + std::to_string(domid);
  REQUIRE(dom0.write(home + "/name", name) == 0);
  REQUIRE(dom0.write(home + "/vm",
                     "/vm/00000000-0000-4000-8000-0000000" + std::to_string(10000 + domid)) == 0);
  REQUIRE(dom0.write(home + "/memory/static-max", "524288") == 0);
  REQUIRE(dom0.write(home + "/memory/target", "262144") == 0);
  REQUIRE(dom0.mkdir(home + "/data") == 0);
  xs_permissions readable[2] = {{0, XS_PERM_NONE}, {domid, XS_PERM_READ}};
  xs_permissions owned[1] = {{domid, XS_PERM_NONE}};
  for (const char* p : {"", "/name", "/vm", "/memory", "/memory/target", "/memory/static-max"}) {
    REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, (home + p).c_str(), readable, 2));
  }
  REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, (home + "/data").c_str(), owned, 1));
  REQUIRE(xs_introduce_domain(dom0.get(), domid, 1000 + domid, 1));
}

// What libxl does when a domain is destroyed.
void destroy_guest(XsHandle& dom0, unsigned domid) {
  xs_release_domain(dom0.get(), domid);
  dom0.rm("/local/domain/" + std::to_string(domid));
}

// A good publication in the agent's layout, as the guest writes it.
void publish(XsHandle& guest, unsigned domid, std::uint64_t mem_total_kib) {
  std::string dir = "/local/domain/" + std::to_string(domid) + "/data/xenballoon/";
  REQUIRE(guest.write(dir + "layout", "1") == 0);
  REQUIRE(guest.write(dir + "meminfo", "MemTotal " + std::to_string(mem_total_kib) +
                                           "\nCommitted_AS 100000\n") == 0);
  REQUIRE(guest.write(dir + "vmstat", "pswpin 1\npswpout 2\n") == 0);
}

}  // namespace

TEST_CASE("the fixture host's scrape matches the golden file and lints clean") {
  Xenstored xenstored({"--load", kFixtureTree});
  Exporter exporter(xenstored);
  REQUIRE(exporter.process().running());
  std::string scrape = exporter.scrape();
  REQUIRE_FALSE(scrape.empty());

  std::string got = normalise(scrape);
  const char* update = std::getenv("XENBALLOON_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") std::ofstream(kGolden) << got;
  CHECK(got == slurp(kGolden));
  CHECK(promtool_problems(scrape).empty());

  // Spot checks of what the golden file pins, so that a careless regeneration shows.
  CHECK(value_of(scrape, "xenballoon_memory_mem_total_bytes{" + kWeb + "}") == 204924.0 * 1024);
  CHECK(value_of(scrape, "xenballoon_exporter_guests") == 5);  // dom0 publishes nothing
  CHECK(value_of(scrape, "xenballoon_exporter_guests_with_agent") == 2);
  CHECK(value_of(scrape, "xenballoon_exporter_xenstore_connected") == 1);
  CHECK(scrape.find("xenballoon_host_memory") == std::string::npos);  // no hypervisor here
  CHECK(exporter.log().find("no host memory figures") != std::string::npos);
}

TEST_CASE("every family the exporter shows is documented in docs/metrics.md") {
  auto documented = documented_families();
  REQUIRE(documented.size() > 30);
  std::string line;
  Xenstored xenstored({"--load", kFixtureTree});
  Exporter exporter(xenstored);
  std::istringstream lines(exporter.scrape());
  int families = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::string family = line.substr(7, line.find(' ', 7) - 7);
    ++families;
    bool found = is_documented(documented, family);
    INFO(family);
    CHECK(found);
  }
  CHECK(families > 70);
}

TEST_CASE("watch events keep the cache current without a full re-read") {
  Xenstored xenstored({"--load", kFixtureTree});
  XsHandle dom0(xenstored.socket());
  Exporter exporter(xenstored);
  std::string home = "/local/domain/1/";

  REQUIRE(dom0.write(home + "data/xenballoon/heartbeat", "1795663705") == 0);
  REQUIRE(dom0.write(home + "memory/target", "300000") == 0);
  CHECK(wait_until(
      [&] {
        auto s = exporter.scrape();
        return value_of(s, "xenballoon_heartbeat_timestamp_seconds{" + kWeb + "}") == 1795663705 &&
               value_of(s, "xenballoon_dom0_target_bytes{" + kWeb + "}") == 300000.0 * 1024;
      },
      2s));
  CHECK(value_of(exporter.scrape(), "xenballoon_exporter_cache_updates_total") >= 2);

  // A removed key takes its series with it; a removed agent directory takes them all.
  REQUIRE(dom0.rm(home + "data/xenballoon/pressure") == 0);
  CHECK(wait_until(
      [&] {
        return !value_of(exporter.scrape(),
                         "xenballoon_pressure_memory_some_avg10_ratio{" + kWeb + "}");
      },
      2s));
  REQUIRE(dom0.rm(home + "data/xenballoon") == 0);
  CHECK(wait_until(
      [&] {
        auto s = exporter.scrape();
        return !value_of(s, "xenballoon_memory_mem_total_bytes{" + kWeb + "}") &&
               value_of(s, "xenballoon_exporter_guests_with_agent") == 1 &&
               value_of(s, "xenballoon_static_max_bytes{" + kWeb + "}") == 524288.0 * 1024;
      },
      2s));

  // A guest renamed by dom0 (xl rename) keeps its domid and changes its label.
  REQUIRE(dom0.write(home + "name", "web2") == 0);
  CHECK(wait_until(
      [&] {
        return exporter.scrape().find("domain=\"web2\"") != std::string::npos &&
               exporter.scrape().find("domain=\"web\"") == std::string::npos;
      },
      2s));
}

TEST_CASE("domain churn leaves no stale series and no growth") {
  Xenstored xenstored({"--load", kFixtureTree});
  XsHandle dom0(xenstored.socket());
  Exporter exporter(xenstored);
  std::atomic<bool> churning{true};
  std::atomic<int> scrapes{0}, bad_scrapes{0};
  std::thread scraper([&] {
    while (churning) {
      auto s = exporter.scrape();
      ++scrapes;
      // Every scrape is whole: it ends with the exporter's own last family.
      if (s.find("xenballoon_exporter_scrape_duration_seconds ") == std::string::npos) {
        ++bad_scrapes;
      }
    }
  });
  constexpr unsigned kFirst = 100, kCount = 30, kRounds = 6;
  std::uint64_t rss_after_first = 0;
  std::string mid_churn_problems;
  for (unsigned round = 0; round < kRounds; ++round) {
    for (unsigned d = kFirst; d < kFirst + kCount; ++d) {
      make_guest(dom0, d, "churn" + std::to_string(d));
      XsHandle guest(xenstored.domain_socket(d));
      publish(guest, d, 100000 + d);
    }
    CHECK(wait_until(
        [&] { return value_of(exporter.scrape(), "xenballoon_exporter_guests") == 5 + kCount; },
        5s));
    auto s = exporter.scrape();
    CHECK(value_of(s,
                   "xenballoon_memory_mem_total_bytes{domid=\"117\",domain=\"churn117\","
                   "uuid=\"00000000-0000-4000-8000-000000010117\"}") == 100117.0 * 1024);
    if (round == kRounds / 2) mid_churn_problems = promtool_problems(s);
    for (unsigned d = kFirst; d < kFirst + kCount; ++d) destroy_guest(dom0, d);
    CHECK(wait_until(
        [&] {
          auto after = exporter.scrape();
          for (unsigned d = kFirst; d < kFirst + kCount; ++d) {
            if (has_series_of_domid(after, d)) return false;
          }
          return value_of(after, "xenballoon_exporter_guests") == 5;
        },
        5s));
    if (round == 0) rss_after_first = exporter.rss_kib();
  }
  churning = false;
  scraper.join();
  CHECK(mid_churn_problems.empty());
  CHECK(scrapes > 10);
  CHECK(bad_scrapes == 0);
  std::uint64_t rss_after_last = exporter.rss_kib();
  INFO("RSS after round 1: " << rss_after_first << " KiB, after round " << kRounds << ": "
                             << rss_after_last << " KiB");
  // AddressSanitizer keeps freed memory in quarantine.
  if (!under_address_sanitizer()) CHECK(rss_after_last < rss_after_first + 4096);
  CHECK(exporter.process().running());
  CHECK(exporter.stops_cleanly());
}

TEST_CASE("hostile guests writing through their own sockets cannot break the scrape") {
  Xenstored xenstored({"--load", kFixtureTree});
  XsHandle dom0(xenstored.socket());
  Exporter exporter(xenstored);
  std::string before = exporter.scrape();
  auto good_values = [](const std::string& scrape) {
    std::map<std::string, std::string> values;
    std::istringstream in(scrape);
    std::string line;
    while (std::getline(in, line)) {
      bool good_guest = line.find("{domid=\"1\"") != std::string::npos ||
                        line.find("{domid=\"2\"") != std::string::npos ||
                        line.find("{domid=\"3\"") != std::string::npos;
      std::string name = line.substr(0, line.find('{'));
      if (good_guest && !kVolatile.count(name)) values[line.substr(0, line.rfind(' '))] = line;
    }
    return values;
  };
  auto good_before = good_values(before);
  REQUIRE(good_before.size() > 80);

  constexpr unsigned kEvil = 66;
  make_guest(dom0, kEvil, "evil");
  // The name is dom0's to write; the exporter must still cope with what a toolstack lets through.
  REQUIRE(dom0.write("/local/domain/66/name",
                     std::string("q\"uo\\te\nnew\x01line \xC3\x28 \xF0\x9F\x98\x80 ") +
                         std::string(300, 'n')) == 0);
  XsHandle guest(xenstored.domain_socket(kEvil));
  REQUIRE(guest);
  std::string dir = "/local/domain/66/data/xenballoon/";
  auto write = [&](const std::string& key, const std::string& value) {
    return guest.write(dir + key, value);
  };
  // At and past the size limits: a value just under the 2048-byte record quota is accepted by
  // xenstore and refused by the exporter; one past the quota never gets in.
  std::string near_limit;
  for (int i = 0; near_limit.size() < 1890; ++i)
    near_limit += "MemTotal " + std::to_string(i) + "\n";
  CHECK(write("meminfo", near_limit.substr(0, 1890)) == 0);
  CHECK(write("vmstat", std::string(2100, 'x')) != 0);
  // Binary garbage, overflows, negative numbers, NaN and infinity.
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  CHECK(write("vmstat", binary) == 0);
  CHECK(write("target-kb", "18446744073709551616") == 0);
  CHECK(write("floor-kb", "-1") == 0);
  CHECK(write("current-kb", "nan") == 0);
  CHECK(write("heartbeat", "inf") == 0);
  CHECK(write("uptime", "nan nan") == 0);
  CHECK(write("pressure", "some avg10=nan avg60=0.00 avg300=0.00 total=1\n") == 0);
  CHECK(write("layout", "1") == 0);
  CHECK(write("mode", "selfballoon\"} 1\nxenballoon_fake 1") == 0);
  CHECK(guest.write("/local/domain/66/data/meminfo_total", "-2048") == 0);
  // Thousands of keys, up to the domain's node quota (spread over directories, since a node's
  // record, child names included, must stay under the 2048-byte entry quota).
  int created = 0;
  for (int d = 0; d < 10; ++d) {
    for (int i = 0; i < 200; ++i) {
      if (write("junk" + std::to_string(d) + "/" + std::to_string(i), "1") != 0) break;
      ++created;
    }
  }
  CHECK(created > 800);
  // And a storm: the same keys rewritten as fast as the guest can for two seconds, while
  // scrapes go on.
  std::atomic<bool> storming{true};
  std::atomic<long> storm_writes{0};
  std::thread storm([&] {
    XsHandle own(xenstored.domain_socket(kEvil));
    for (long i = 0; storming; ++i) {
      own.write(dir + "heartbeat", std::to_string(i));
      own.write(dir + "meminfo", "MemTotal " + std::to_string(i % 1000) + "\nMemFree x\n");
      storm_writes += 2;
    }
  });
  auto storm_end = std::chrono::steady_clock::now() + 2s;
  std::chrono::steady_clock::duration slowest{};
  int scrapes = 0;
  std::string scrape;
  while (std::chrono::steady_clock::now() < storm_end) {
    auto start = std::chrono::steady_clock::now();
    scrape = exporter.scrape();
    slowest = std::max(slowest, std::chrono::steady_clock::now() - start);
    ++scrapes;
    std::this_thread::sleep_for(50ms);
  }
  storming = false;
  storm.join();
  INFO("storm: " << storm_writes << " writes; " << scrapes << " scrapes, slowest "
                 << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()
                 << " ms");
  CHECK(storm_writes > 1000);
  CHECK(scrapes >= 10);
  CHECK(slowest < 500ms);

  // Settled: the exposition is valid, the good guests read exactly as before, the hostile
  // guest has only the series the exporter knows, and every refusal was counted.
  REQUIRE(wait_until([&] { return value_of(exporter.scrape(), "xenballoon_exporter_guests") == 6; },
                     5s));
  scrape = exporter.scrape();
  CHECK(promtool_problems(scrape).empty());
  CHECK(good_values(scrape) == good_before);
  CHECK(scrape.find("xenballoon_fake") == std::string::npos);
  std::size_t evil_series = 0;
  std::istringstream lines(scrape);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("{domid=\"66\"") != std::string::npos) ++evil_series;
  }
  CHECK(evil_series > 0);
  CHECK(evil_series < 10);
  // The label is valid UTF-8, escaped and cut to 128 bytes.
  auto label_start = scrape.find("{domid=\"66\",domain=\"");
  REQUIRE(label_start != std::string::npos);
  std::string label = scrape.substr(label_start, scrape.find("\",uuid", label_start) - label_start);
  CHECK(label.find("q\\\"uo\\\\te\\nnew") != std::string::npos);
  CHECK(label.size() < 20 + 128 + 16);
  CHECK(value_of(scrape, "xenballoon_exporter_parse_errors_total{reason=\"unknown_key\"}") >=
        created);
  CHECK(value_of(scrape, "xenballoon_exporter_parse_errors_total{reason=\"malformed\"}") > 10);
  if (!under_address_sanitizer()) CHECK(exporter.rss_kib() < 32 * 1024);
  CHECK(exporter.process().running());
  CHECK(exporter.stops_cleanly());
}

TEST_CASE("a xenstored restart is survived, reported and recovered from") {
  Xenstored xenstored({"--load", kFixtureTree});
  Exporter exporter(xenstored);
  REQUIRE(value_of(exporter.scrape(), "xenballoon_exporter_xenstore_reconnects_total") == 0);
  xenstored.process().stop(SIGTERM);
  CHECK(wait_until(
      [&] { return value_of(exporter.scrape(), "xenballoon_exporter_xenstore_connected") == 0; },
      5s));
  CHECK(http_get(exporter.port(), "/healthz").status == 503);
  // The last known values stay, marked stale by the connected gauge.
  CHECK(value_of(exporter.scrape(), "xenballoon_exporter_guests") == 5);
  xenstored.restart();
  CHECK(wait_until(
      [&] {
        auto s = exporter.scrape();
        return value_of(s, "xenballoon_exporter_xenstore_connected") == 1 &&
               value_of(s, "xenballoon_exporter_xenstore_reconnects_total") == 1;
      },
      10s));
  CHECK(http_get(exporter.port(), "/healthz").status == 200);
  CHECK(exporter.log().find("lost xenstore") != std::string::npos);
  CHECK(exporter.log().find("reconnected to xenstore") != std::string::npos);
}

TEST_CASE("exporter command line, health and landing page") {
  auto help = run_command({XENBALLOON_EXPORTER_BIN, "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--web.listen-address") != std::string::npos);
  CHECK(help.out.find("(default :9751)") != std::string::npos);
  auto version = run_command({XENBALLOON_EXPORTER_BIN, "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("xenballoon-exporter ", 0) == 0);
  CHECK(run_command({XENBALLOON_EXPORTER_BIN, "--log.level", "loud"}).exit_code == 2);
  CHECK(run_command({XENBALLOON_EXPORTER_BIN, "extra"}).exit_code == 2);

  Xenstored xenstored({"--load", kFixtureTree});
  Exporter exporter(xenstored);
  CHECK(http_get(exporter.port(), "/healthz").body == "ok\n");
  auto landing = http_get(exporter.port(), "/");
  CHECK(landing.status == 200);
  CHECK(landing.body.find("href=\"/metrics\"") != std::string::npos);
  CHECK(http_get(exporter.port(), "/nope").status == 404);
  CHECK(http_get(exporter.port(), "/metrics").headers.find("version=0.0.4") != std::string::npos);
  // The port is taken: a second exporter says so and exits.
  auto second = run_command({XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                             "127.0.0.1:" + std::to_string(exporter.port())},
                            xenstored.env_for(0), 5s);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("cannot listen") != std::string::npos);
}

TEST_CASE("without xenstore the exporter serves, reports disconnected and retries") {
  TempDir dir;
  auto port = free_port();
  ChildProcess exporter(
      {XENBALLOON_EXPORTER_BIN, "--web.listen-address", "127.0.0.1:" + std::to_string(port)},
      {{"XENSTORED_PATH", dir.path() + "/no-socket"}}, dir.path() + "/log", dir.path() + "/log");
  REQUIRE(wait_until([&] { return http_get(port, "/metrics").status == 200; }, 5s));
  auto scrape = http_get(port, "/metrics").body;
  CHECK(value_of(scrape, "xenballoon_exporter_xenstore_connected") == 0);
  CHECK(value_of(scrape, "xenballoon_exporter_guests") == 0);
  CHECK(http_get(port, "/healthz").status == 503);
  CHECK(promtool_problems(scrape).empty());
  CHECK(exporter.running());
}
