// dom0/guest_cache.h: the cache's counting of refusals by reason and its forgetting of domains.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "guest_samples.h"
#include "xenballoon/dom0/guest_cache.h"

using namespace xenballoon;
using namespace xenballoon::dom0;
using namespace xenballoon::test;

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
