// xenballoon-balancer's /metrics text: the per-guest families with escaped labels, the one-hot
// state gauge, counters at 0 from the start, and the host and plan families absent while unknown.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "balancer_metrics.h"

using namespace xenballoon;
using namespace xenballoon::balancer;
using dom0::balance::GuestState;
using dom0::balance::Reason;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string got;
  while (std::getline(in, got)) {
    if (got == line) return true;
  }
  return false;
}

bool has_family(const std::string& text, const std::string& family) {
  return text.find("# TYPE " + family + " ") != std::string::npos;
}

}  // namespace

TEST_CASE("the balancer's metrics before any step: counters at 0, no host or plan families") {
  Snapshot s;
  s.host_reserved_kib = 256 * 1024;
  const std::string text = render(s);
  CHECK(has_line(text, "xenballoon_balancer_guests 0"));
  CHECK(has_line(text, "xenballoon_balancer_balancing 0"));
  CHECK(has_line(text, "xenballoon_balancer_dry_run 0"));
  CHECK(has_line(text, "xenballoon_balancer_host_reserved_bytes 268435456"));
  CHECK(has_line(text, "xenballoon_balancer_steps_total 0"));
  CHECK(has_line(text, "xenballoon_balancer_target_write_errors_total 0"));
  CHECK(has_line(text, "xenballoon_balancer_target_writes_total{direction=\"up\"} 0"));
  CHECK(has_line(text, "xenballoon_balancer_decisions_total{reason=\"grow_for_need\"} 0"));
  CHECK(has_line(text, "xenballoon_balancer_decisions_total{reason=\"uncooperative\"} 0"));
  CHECK(has_line(text, "# TYPE xenballoon_balancer_decisions_total counter"));
  for (const char* absent :
       {"xenballoon_balancer_host_total_bytes", "xenballoon_balancer_host_free_bytes",
        "xenballoon_balancer_available_bytes", "xenballoon_balancer_unmet_need_bytes",
        "xenballoon_balancer_unreclaimable_bytes", "xenballoon_balancer_proposed_target_bytes",
        "xenballoon_balancer_guest_state", "xenballoon_balancer_last_step_timestamp_seconds"}) {
    INFO(absent);
    CHECK_FALSE(has_family(text, absent));
  }
}

TEST_CASE("the balancer's per-guest metrics carry escaped guest labels and a one-hot state") {
  Snapshot s;
  s.dry_run = true;
  s.balancing = true;
  s.host = dom0::HostMemory{4ull << 30, 1ull << 30};
  s.available_kib = 3 * 1024 * 1024;
  s.unmet_kib = 0;
  s.unreclaimable_kib = 0;
  s.decisions[reason_index(Reason::kShrinkIdle)] = 3;
  s.steps = 7;
  s.last_step_unix_seconds = 1800000000.5;
  s.guests.push_back(GuestRow{1, "we\"b\\\n", "632ea78c-e949-11f1-9b01-4b366020df3b", 1048576,
                              786432, 262144, 2.5, GuestState::kStuck});
  s.guests.push_back(GuestRow{2, "db", "", std::nullopt, 524288, 131072, 1, GuestState::kExcluded});
  const std::string text = render(s);
  const std::string web =
      R"(domid="1",domain="we\"b\\\n",uuid="632ea78c-e949-11f1-9b01-4b366020df3b")";
  CHECK(has_line(text, "xenballoon_balancer_proposed_target_bytes{" + web + "} 1073741824"));
  CHECK(has_line(text, "xenballoon_balancer_applied_target_bytes{" + web + "} 805306368"));
  CHECK(has_line(text, "xenballoon_balancer_need_bytes{" + web + "} 268435456"));
  CHECK(has_line(text, "xenballoon_balancer_weight{" + web + "} 2.5"));
  CHECK(has_line(text, "xenballoon_balancer_guest_state{" + web + ",state=\"stuck\"} 1"));
  CHECK(has_line(text, "xenballoon_balancer_guest_state{" + web + ",state=\"ok\"} 0"));
  const std::string db = R"(domid="2",domain="db",uuid="")";
  CHECK(text.find("xenballoon_balancer_proposed_target_bytes{" + db) == std::string::npos);
  CHECK(has_line(text, "xenballoon_balancer_guest_state{" + db + ",state=\"excluded\"} 1"));
  CHECK(has_line(text, "xenballoon_balancer_guests 2"));
  CHECK(has_line(text, "xenballoon_balancer_host_total_bytes 4294967296"));
  CHECK(has_line(text, "xenballoon_balancer_host_free_bytes 1073741824"));
  CHECK(has_line(text, "xenballoon_balancer_available_bytes 3221225472"));
  CHECK(has_line(text, "xenballoon_balancer_unmet_need_bytes 0"));
  CHECK(has_line(text, "xenballoon_balancer_dry_run 1"));
  CHECK(has_line(text, "xenballoon_balancer_decisions_total{reason=\"shrink_idle\"} 3"));
  CHECK(has_line(text, "xenballoon_balancer_steps_total 7"));
  CHECK(has_line(text, "xenballoon_balancer_last_step_timestamp_seconds 1800000000.5"));
  // Five state lines per guest, one of them 1.
  std::istringstream in(text);
  std::string line;
  int states = 0, ones = 0;
  while (std::getline(in, line)) {
    if (line.rfind("xenballoon_balancer_guest_state{", 0) != 0) continue;
    ++states;
    if (line.back() == '1') ++ones;
  }
  CHECK(states == 10);
  CHECK(ones == 2);
}
