// dom0/guest_rates.h: the monitor's rates between a guest's publications, timed by its uptime.
#include <catch2/catch.hpp>
#include <cstdint>

#include "xenballoon/dom0/guest_rates.h"
#include "xenballoon/publish/guest_stats.h"

using namespace xenballoon;
using namespace xenballoon::dom0;

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
