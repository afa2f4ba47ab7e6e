// monitor/monitor_table.h: the monitor's snapshot, sorting, text table and JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "../dom0/guest_samples.h"
#include "monitor_table.h"
#include "xenballoon/dom0/guest_cache.h"
#include "xenballoon/dom0/guest_rates.h"
#include "xenballoon/dom0/host_memory.h"

using namespace xenballoon;
using namespace xenballoon::dom0;
using namespace xenballoon::test;

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
  auto doc = nlohmann::json::parse(json);
  CHECK(doc.at("host") ==
        nlohmann::json({{"total_bytes", 4294967296}, {"free_bytes", 1048576000}}));
  CHECK(doc.at("domains").at(0).at("age_seconds") == 12.0);
  CHECK(parse_column("MAJFLT") == Column::kMajorFaults);
  CHECK_FALSE(parse_column("colour"));
}
