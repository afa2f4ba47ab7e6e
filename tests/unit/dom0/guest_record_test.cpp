// dom0/guest_record.h: the three guest layouts merged in one record, refusals, dom0's export rule.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "xenballoon/dom0/guest_record.h"

using namespace xenballoon;
using namespace xenballoon::dom0;

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
