// exporter/exposition.h: the direct writer against prometheus-cpp's serializer, and the host
// memory and exporter families (host memory through the fake source).
#include <catch2/catch.hpp>
#include <string>

#include "../dom0/guest_samples.h"
#include "exposition.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/host_memory.h"

using namespace xenballoon;
using namespace xenballoon::dom0;
using namespace xenballoon::test;

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
