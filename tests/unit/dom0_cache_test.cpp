// The dom0 side's pure parts: label text, event paths, the three guest layouts merged in one
// record, the cache's counting, the exposition (against prometheus-cpp's), host memory through
// the fake, monitor rates and table.
#include <catch2/catch.hpp>
#include <map>
#include <sstream>

#include "exposition.h"
#include "monitor_table.h"
#include "xenballoon/dom0/exposition_reader.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/guest_keys.h"
#include "xenballoon/dom0/guest_rates.h"
#include "xenballoon/dom0/guest_record.h"
#include "xenballoon/dom0/host_memory.h"
#include "xenballoon/dom0/label_text.h"
#include "xenballoon/dom0/legacy_formats.h"

using namespace xenballoon;
using namespace xenballoon::dom0;

namespace {

using Values = std::vector<std::pair<std::string, std::string>>;

// series -> value of every sample line.
std::map<std::string, double> samples_of(const std::string& exposition) {
  std::map<std::string, double> out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

const Values kAgentGuest = {
    {"name", "web"},
    {"vm", "/vm/632EA78C-e949-11f1-9b01-4b366020df3b"},
    {"memory/target", "262144"},
    {"memory/static-max", "524288"},
    {"data/xenballoon/layout", "1"},
    {"data/xenballoon/agent", "xenballoond 0.1.0"},
    {"data/xenballoon/heartbeat", "1795663700"},
    {"data/xenballoon/mode", "directed"},
    {"data/xenballoon/policy", "classic"},
    {"data/xenballoon/target-kb", "172032"},
    {"data/xenballoon/current-kb", "262144"},
    {"data/xenballoon/meminfo", "MemTotal 204924\nHugePages_Free 3\nSomethingNew 5\n"},
    {"data/xenballoon/vmstat", "pswpin 7\npgmajfault 9\nnr_free_pages 5\n"},
    {"data/xenballoon/uptime", "7.30 2.52"},
    {"data/xenballoon/pressure",
     "some avg10=1.50 avg60=0.00 avg300=0.00 total=2500000\nfull avg10=0.50 avg60=0.00 "
     "avg300=0.00 total=1000\n"}};

}  // namespace

TEST_CASE("label text is valid UTF-8, capped at a character boundary, and escaped") {
  CHECK(to_valid_utf8("plain") == "plain");
  CHECK(to_valid_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(to_valid_utf8("a\xFFz") == "a\xEF\xBF\xBDz");
  CHECK(to_valid_utf8(std::string("a\0b", 3)) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(to_valid_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  CHECK(to_valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(to_valid_utf8("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
  CHECK(to_valid_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  CHECK(to_valid_utf8(std::string(500, 'n')).size() == kMaxLabelBytes);
  CHECK(to_valid_utf8("ab\xC3\xA9", 3) == "ab");  // no half character at the cut

  std::string out;
  append_label_value(out, "q\"b\\n\nx");
  CHECK(out == "q\\\"b\\\\n\\nx");
  out.clear();
  append_json_string(out, "a\"\\\n\x01");
  CHECK(out == "\"a\\\"\\\\\\u000a\\u0001\"");

  CHECK(uuid_from_vm_path("/vm/632EA78C-e949-11f1-9b01-4b366020df3b") ==
        "632ea78c-e949-11f1-9b01-4b366020df3b");
  CHECK(uuid_from_vm_path("/vm/../../etc/passwd").empty());
  CHECK(uuid_from_vm_path("/vm/632ea78c-e949-11f1-9b01-4b366020df3g").empty());
  CHECK(uuid_from_vm_path("632ea78c-e949-11f1-9b01-4b366020df3b").empty());

  CHECK(printable_cell("a\nb\x1b[31m", 20) == "a?b?[31m");
  CHECK(printable_cell("abcdefgh", 5) == "abcd~");
  CHECK(printable_cell("caf\xC3\xA9", 4) == "caf\xC3\xA9");
  CHECK(printable_cell("\xC2\x9B"
                       "x",
                       4) == "?x");  // C1 CSI
}

TEST_CASE("watch event paths map onto domains and keys") {
  auto p = parse_domain_path("/local/domain/12/data/xenballoon/meminfo");
  REQUIRE(p);
  CHECK(p->domid == 12);
  CHECK(p->relative == "data/xenballoon/meminfo");
  CHECK(parse_domain_path("/local/domain/7")->relative.empty());
  CHECK_FALSE(parse_domain_path("/local/domain"));
  CHECK_FALSE(parse_domain_path("/local/domainx/1"));
  CHECK_FALSE(parse_domain_path("/local/domain/01/name"));
  CHECK_FALSE(parse_domain_path("/local/domain/32752/name"));  // DOMID_FIRST_RESERVED
  CHECK_FALSE(parse_domain_path("/local/domain/-1/name"));
  CHECK_FALSE(parse_domain_path("/vm/1"));
  CHECK(classify_key("data/xenballoon/heartbeat") == GuestKey::kAgentValue);
  CHECK(classify_key("data/xenballoon/junk") == GuestKey::kAgentUnknown);
  CHECK(classify_key("data/xenballoon/meminfo/deeper") == GuestKey::kAgentUnknown);
  CHECK(classify_key("memory/meminfo") == GuestKey::kLegacyMeminfo);
  CHECK(classify_key("data/meminfo_free") == GuestKey::kXenServerFree);
  CHECK(classify_key("device/vif/0/state") == GuestKey::kOther);
  CHECK(classify_dir("data/xenballoon") == GuestDir::kAgentDir);
  CHECK(classify_dir("") == GuestDir::kHome);
}

TEST_CASE("the 2008 meminfo text converts to the layout's lines, bounded") {
  std::string lines;
  CHECK_FALSE(legacy_meminfo_to_layout("MemTotal:   204924 kB\nHugePages_Total:   0\n", &lines));
  CHECK(lines == "MemTotal 204924\nHugePages_Total 0\n");
  CHECK(legacy_meminfo_to_layout("MemTotal: lots kB", &lines) == "malformed");
  CHECK(legacy_meminfo_to_layout("Mem\"Total: 5 kB", &lines) == "malformed");
  CHECK(legacy_meminfo_to_layout(std::string(5000, 'x'), &lines) == "too_large");
  std::optional<std::uint64_t> kib;
  CHECK_FALSE(decode_kib_value(" 2040000\n", &kib));
  CHECK(kib == 2040000u);
  CHECK(decode_kib_value("-5", &kib) == "malformed");
  CHECK_FALSE(kib);
  CHECK(decode_kib_value("17592186044417", &kib) == "out_of_range");
}

TEST_CASE("a guest record merges the layouts: agent over 2008 over XenServer") {
  GuestRecord record(4);
  record.apply("data/meminfo_total", std::string("1000"), 1);
  record.apply("data/meminfo_free", std::string("400"), 1);
  CHECK(record.view().source == StatsSource::kXenServer);
  CHECK(record.view().stats.meminfo_bytes("MemTotal") == 1000u * 1024);
  record.apply("memory/meminfo", std::string("MemTotal:  2000 kB\nCommitted_AS:  300 kB"), 2);
  CHECK(record.view().source == StatsSource::kLegacy);
  CHECK(record.view().stats.meminfo_bytes("MemTotal") == 2000u * 1024);
  CHECK(record.view().stats.meminfo_bytes("MemFree") == 400u * 1024);  // only XenServer has it
  record.apply("memory/selftarget", std::string("1500"), 2);
  CHECK(record.view().stats.target_kib == 1500u);
  record.apply("data/xenballoon/layout", std::string("1"), 3);
  record.apply("data/xenballoon/meminfo", std::string("MemTotal 3000\n"), 3);
  CHECK(record.view().source == StatsSource::kAgent);
  CHECK(record.view().stats.meminfo_bytes("MemTotal") == 3000u * 1024);
  CHECK(record.view().stats.meminfo_bytes("Committed_AS") == 300u * 1024);
  CHECK(record.view().last_update_unix_seconds == 3);
  CHECK(record.has_agent_layout());

  // A refused value clears what the key held; a removed key too.
  CHECK(record.apply("data/xenballoon/meminfo", std::string("MemTotal x\n"), 4) == "malformed");
  CHECK(record.view().stats.meminfo_bytes("MemTotal") == 2000u * 1024);
  CHECK(record.apply("memory/meminfo", std::nullopt, 5) == std::nullopt);
  CHECK(record.view().stats.meminfo_bytes("MemTotal") == 1000u * 1024);
  CHECK(record.apply("data/xenballoon/junk", std::string("1"), 6) == "unknown_key");
  // dom0's own keys are bounded as strictly as the guest's.
  CHECK(record.apply("memory/static-max", std::string("99999999999999999999"), 7) == "malformed");
  CHECK_FALSE(record.view().stats.static_max_kib);
  // Keys that are not ours are neither read nor refused.
  CHECK(record.apply("device/vif/0/state", std::string("4"), 8) == std::nullopt);
}

TEST_CASE("dom0 is exported only when something publishes for it") {
  GuestRecord dom0(0);
  dom0.apply("name", std::string("Domain-0"), 1);
  CHECK_FALSE(dom0.exported());
  dom0.apply("data/xenballoon/heartbeat", std::string("1795663700"), 1);
  CHECK(dom0.exported());
  GuestRecord bare(3);
  CHECK(bare.exported());
}

TEST_CASE("the cache counts refusals by reason and forgets removed domains") {
  GuestCache cache;
  cache.put_domain(1, kAgentGuest, 100, false);
  cache.put_domain(
      2,
      {{"name", "bad"}, {"data/xenballoon/mode", "rootkit"}, {"data/xenballoon/heartbeat", "nan"}},
      100, false);
  cache.update(2, "data/xenballoon/uptime", std::string("-1 5"), 101);
  cache.update(9, "data/xenballoon/uptime", std::string("-1 5"), 101);  // unknown domain: ignored
  cache.count_unknown_agent_key(2);
  cache.read([](const auto& guests, const CacheStats& stats) {
    CHECK(guests.size() == 2);
    CHECK(stats.parse_errors.at("unknown_value") == 1);
    CHECK(stats.parse_errors.at("malformed") == 2);
    CHECK(stats.parse_errors.at("unknown_key") == 1);
    CHECK(stats.parse_errors.at("too_large") == 0);
    CHECK(stats.updates == 1);
  });
  cache.retain({1});
  CHECK(cache.domids() == std::vector<std::uint32_t>{1});
  cache.remove(1);
  CHECK(cache.views().empty());
}

TEST_CASE("the exposition says what prometheus-cpp's serializer says") {
  GuestCache cache;
  cache.put_domain(1, kAgentGuest, 1795663701.5, false);
  Values legacy = {{"name", "evil \"name\"\nback\\slash \xFF"},
                   {"memory/meminfo", "MemTotal:  2000 kB\nHugePages_Total: 2"},
                   {"memory/vmstat", "pswpout 3"},
                   {"memory/uptime", "100.00 50.00"},
                   {"memory/static-max", "4096"}};
  cache.put_domain(2, legacy, 1795663702, false);
  cache.put_domain(3, {{"name", "bare"}, {"memory/target", "1024"}}, 1795663703, false);

  std::string fast = render_exposition(cache, {});
  std::string reference = render_reference_text(cache);
  auto fast_samples = samples_of(fast);
  auto reference_samples = samples_of(reference);
  // The fast path adds the exporter's own families; the guests' series are the same.
  std::erase_if(fast_samples,
                [](const auto& entry) { return entry.first.find("{domid=") == std::string::npos; });
  CHECK(fast_samples == reference_samples);
  CHECK(fast_samples.size() > 20);

  const std::string web = R"({domid="1",domain="web",uuid="632ea78c-e949-11f1-9b01-4b366020df3b"})";
  CHECK(fast_samples.at("xenballoon_memory_mem_total_bytes" + web) == 204924.0 * 1024);
  CHECK(fast_samples.at("xenballoon_memory_huge_pages_free_pages" + web) == 3);
  CHECK(fast_samples.at("xenballoon_vmstat_pgmajfault_total" + web) == 9);
  CHECK(fast_samples.at("xenballoon_pressure_memory_waiting_seconds_total" + web) == 2.5);
  CHECK(fast_samples.at("xenballoon_pressure_memory_some_avg10_ratio" + web) == 0.015);
  CHECK(fast_samples.at("xenballoon_selfballoon_enabled" + web) == 0);
  CHECK(
      fast_samples.at(
          R"(xenballoon_agent_info{domid="1",domain="web",uuid="632ea78c-e949-11f1-9b01-4b366020df3b",version="0.1.0",policy="classic",mode="directed"})") ==
      1);
  CHECK(fast_samples.at("xenballoon_last_update_timestamp_seconds" + web) == 1795663701.5);
  // Only known fields become series.
  CHECK(fast.find("something_new") == std::string::npos);
  CHECK(fast.find("nr_free_pages") == std::string::npos);
  CHECK(fast.find(R"(domain="evil \"name\"\nback\\slash )"
                  "\xEF\xBF\xBD"
                  R"(")") != std::string::npos);
  // Each family once.
  CHECK(fast.find("# TYPE xenballoon_static_max_bytes gauge") ==
        fast.rfind("# TYPE xenballoon_static_max_bytes gauge"));
}

TEST_CASE("host memory families come from the source and vanish without one") {
  GuestCache cache;
  FakeHostMemory host(HostMemory{2047ull << 20, 744ull << 20});
  FeedStatus feed;
  feed.connected = true;
  feed.reconnects = 2;
  auto samples = samples_of(render_exposition(cache, {&feed, host.read()}));
  CHECK(samples.at("xenballoon_host_memory_total_bytes") == 2047.0 * 1024 * 1024);
  CHECK(samples.at("xenballoon_host_memory_free_bytes") == 744.0 * 1024 * 1024);
  CHECK(samples.at("xenballoon_exporter_xenstore_connected") == 1);
  CHECK(samples.at("xenballoon_exporter_xenstore_reconnects_total") == 2);
  CHECK(samples.at("xenballoon_exporter_guests") == 0);
  host.set(std::nullopt);
  auto without = render_exposition(cache, {&feed, host.read()});
  CHECK(without.find("xenballoon_host_memory") == std::string::npos);
  // No hypervisor on a test machine: the real source says why instead of failing.
  std::string why;
  auto real = open_xenctrl_host_memory(&why);
  if (!real) CHECK_FALSE(why.empty());
}

TEST_CASE("rates span the guest's last two publications, timed by its uptime") {
  GuestView v;
  v.domid = 1;
  auto set = [&](const char* counter, std::uint64_t value) {
    v.stats.vmstat.known[*publish::vmstat_index(counter)] = value;
  };
  set("pswpin", 100);
  set("pgmajfault", 10);
  v.stats.uptime_seconds = 50;
  RateTracker tracker;
  tracker.observe({v}, 1000);
  CHECK_FALSE(tracker.rates(1).swap_in);
  tracker.observe({v}, 1002);  // no new publication: still nothing
  CHECK_FALSE(tracker.rates(1).swap_in);
  set("pswpin", 150);
  set("pgmajfault", 30);
  v.stats.uptime_seconds = 60;
  tracker.observe({v}, 1003);  // 3 s of monitor time, 10 s of guest time
  CHECK(tracker.rates(1).swap_in == 5.0);
  CHECK(tracker.rates(1).major_faults == 2.0);
  CHECK_FALSE(tracker.rates(1).swap_out);
  tracker.observe({v}, 1005);  // unchanged publication keeps the rate
  CHECK(tracker.rates(1).swap_in == 5.0);
  v.stats.uptime_seconds = 5;  // rebooted
  set("pswpin", 1);
  tracker.observe({v}, 1006);
  CHECK_FALSE(tracker.rates(1).swap_in);
  tracker.observe({}, 1007);  // destroyed
  CHECK_FALSE(tracker.rates(1).swap_in);
}

TEST_CASE("the monitor table shows host memory and totals, sorted") {
  GuestCache cache;
  cache.put_domain(1, kAgentGuest, 1, false);
  cache.put_domain(2, {{"name", "b"}, {"memory/target", "2048"}, {"memory/static-max", "4096"}}, 1,
                   false);
  RateTracker rates;
  auto snapshot =
      make_snapshot(cache.views(), rates, HostMemory{4096ull << 20, 1000ull << 20}, 1795663712);
  sort_rows(snapshot.rows, Column::kTarget, false);
  CHECK(snapshot.rows[0].domid == 1);
  std::string table = format_table(snapshot);
  CHECK(table.find("host 1000 MiB free of 4096 MiB") != std::string::npos);
  CHECK(table.find("Total: 2 domains, 1 with statistics; memory 256 MiB, target 258 MiB") !=
        std::string::npos);
  CHECK(table.find(" 12s\n") != std::string::npos);  // heartbeat 12 s old
  std::string json = format_json(snapshot);
  CHECK(json.find("\"host\": {\"total_bytes\": 4294967296, \"free_bytes\": 1048576000}") !=
        std::string::npos);
  CHECK(json.find("\"age_seconds\": 12.000") != std::string::npos);
  CHECK(parse_column("MAJFLT") == Column::kMajorFaults);
  CHECK_FALSE(parse_column("colour"));
}

TEST_CASE("an exposition reads back into the views it was written from") {
  GuestCache cache;
  cache.put_domain(1, kAgentGuest, 1795663701, false);
  cache.put_domain(2, {{"name", "l\"eg\\acy\n"}, {"memory/meminfo", "MemTotal: 2000 kB"}}, 1,
                   false);
  cache.put_domain(3, {{"name", "bare"}, {"memory/target", "1024"}}, 1, false);
  FakeHostMemory host(HostMemory{8ull << 30, 1ull << 30});
  auto content = parse_exposition(render_exposition(cache, {nullptr, host.read()}) +
                                  "other_family{domid=\"9\"} 1\nbroken{domid=\"9 1\n");
  auto views = cache.views();
  REQUIRE(content.guests.size() == 3);
  REQUIRE(content.host);
  CHECK(content.host->free_bytes == 1ull << 30);
  for (std::size_t i = 0; i < views.size(); ++i) {
    const GuestView &want = views[i], &got = content.guests[i];
    CHECK(got.domid == want.domid);
    CHECK(got.name == want.name);
    CHECK(got.uuid == want.uuid);
    CHECK(got.stats.meminfo_kib == want.stats.meminfo_kib);
    CHECK(got.stats.vmstat == want.stats.vmstat);
    CHECK(got.stats.uptime_seconds == want.stats.uptime_seconds);
    CHECK(got.stats.psi_some.has_value() == want.stats.psi_some.has_value());
    if (got.stats.psi_some && want.stats.psi_some) {
      CHECK(got.stats.psi_some->total_us == want.stats.psi_some->total_us);
    }
    CHECK(got.stats.current_kib == want.stats.current_kib);
    CHECK(got.stats.dom0_target_kib == want.stats.dom0_target_kib);
    CHECK(got.stats.heartbeat_unix_seconds == want.stats.heartbeat_unix_seconds);
    CHECK(got.stats.agent_info().has_value() == want.stats.agent_info().has_value());
  }
  CHECK(content.guests[0].source == StatsSource::kAgent);
  CHECK(content.guests[0].stats.agent_info()->policy == "classic");
  CHECK(content.guests[1].source == StatsSource::kUnnamed);  // the 2008 keys, unnamed
  CHECK(content.guests[2].source == StatsSource::kNone);
}
