// dom0/guest_keys.h: watch event paths onto domains, keys and directories.
#include <catch2/catch.hpp>

#include "xenballoon/dom0/guest_keys.h"

using namespace xenballoon;
using namespace xenballoon::dom0;

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
