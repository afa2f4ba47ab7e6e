// dom0/exposition_reader.h: an exposition (the exporter's, with a fake host memory source) read
// back into the views it was written from.
#include <catch2/catch.hpp>
#include <cstddef>

#include "exposition.h"
#include "guest_samples.h"
#include "xenballoon/dom0/exposition_reader.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/host_memory.h"

using namespace xenballoon;
using namespace xenballoon::dom0;
using namespace xenballoon::test;

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
