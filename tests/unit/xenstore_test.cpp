#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "xenballoon/xenstore/keys.h"
#include "xenballoon/xenstore/reconnect.h"

using namespace xenballoon::xenstore;
using std::chrono::milliseconds;

namespace {

const Reconnect::Clock::time_point kStart{std::chrono::hours(1)};

}  // namespace

TEST_CASE("a domain's home is below /local/domain") {
  CHECK(keys::domain_home(3) == "/local/domain/3");
  CHECK(keys::domain_path(3, keys::kTarget) == "/local/domain/3/memory/target");
}

TEST_CASE("the override table names each override once with its memory/ path") {
  for (const keys::OverrideSpec& spec : keys::overrides()) {
    INFO(spec.name);
    CHECK(std::string(spec.path) == "memory/" + std::string(spec.name));
    CHECK(keys::parse_override(spec.name) == spec.which);
    CHECK(&keys::spec(spec.which) == &spec);
  }
  CHECK(keys::parse_override("interval") == keys::Override::kInterval);
  CHECK(keys::parse_override("minmem") == keys::Override::kMinmem);
  CHECK_FALSE(keys::parse_override("target"));
  CHECK_FALSE(keys::parse_override("static-max"));
  CHECK_FALSE(keys::parse_override(""));
}

TEST_CASE("override values out of range are named with the rule they break") {
  using keys::Override;
  CHECK_FALSE(keys::check_override(Override::kSelfballoon, 0));
  CHECK_FALSE(keys::check_override(Override::kSelfballoon, 1));
  CHECK(keys::check_override(Override::kSelfballoon, 2) == "must be 0 or 1");

  CHECK(keys::check_override(Override::kInterval, 0) == "must be 1..3600 seconds");
  CHECK_FALSE(keys::check_override(Override::kInterval, 1));
  CHECK_FALSE(keys::check_override(Override::kInterval, 3600));
  CHECK(keys::check_override(Override::kInterval, 3601) == "must be 1..3600 seconds");

  CHECK_FALSE(keys::check_override(Override::kUphysteresis, 0));
  CHECK_FALSE(keys::check_override(Override::kDownhysteresis, 1000));
  CHECK(keys::check_override(Override::kDownhysteresis, 1001) == "must be 0..1000");

  CHECK_FALSE(keys::check_override(Override::kMinmem, 0));  // derive from static-max
  CHECK(keys::check_override(Override::kMinmem, 15) == "must be 0 or 16..1048576 MiB");
  CHECK_FALSE(keys::check_override(Override::kMinmem, 16));
  CHECK_FALSE(keys::check_override(Override::kMinmem, 1048576));
  CHECK(keys::check_override(Override::kMinmem, 1048577) == "must be 0 or 16..1048576 MiB");
}

TEST_CASE("reconnecting backs off from 100 ms doubling to 5 s") {
  Reconnect reconnect;
  CHECK(reconnect.due(kStart));
  CHECK_FALSE(reconnect.ever_connected());
  auto now = kStart;
  const long expected[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (long wait : expected) {
    INFO("wait " << wait << " ms");
    reconnect.failed(now);
    CHECK(reconnect.next_try() == now + milliseconds(wait));
    CHECK_FALSE(reconnect.due(now + milliseconds(wait - 1)));
    CHECK(reconnect.due(now + milliseconds(wait)));
    now += milliseconds(wait);
  }
}

TEST_CASE("only the first failure since the last success is the one to report") {
  Reconnect reconnect;
  CHECK(reconnect.failed(kStart));
  CHECK_FALSE(reconnect.failed(kStart + milliseconds(100)));
  CHECK_FALSE(reconnect.failed(kStart + milliseconds(300)));
  CHECK_FALSE(reconnect.succeeded());  // the first connection, not a reconnection
  CHECK(reconnect.ever_connected());
  CHECK(reconnect.backoff() == milliseconds(100));
  CHECK(reconnect.failed(kStart + milliseconds(1000)));
  CHECK(reconnect.succeeded());  // a reconnection
}

TEST_CASE("a lost connection retries after the initial backoff, undoubled") {
  Reconnect reconnect;
  reconnect.succeeded();
  reconnect.lost(kStart);
  CHECK(reconnect.next_try() == kStart + milliseconds(100));
  CHECK(reconnect.backoff() == milliseconds(100));
  CHECK_FALSE(reconnect.failed(kStart + milliseconds(100)));  // the loss was reported already
  CHECK(reconnect.next_try() == kStart + milliseconds(200));
  CHECK(reconnect.backoff() == milliseconds(200));
}

TEST_CASE("the backoff limits are options") {
  Reconnect reconnect(Reconnect::Options{milliseconds(10), milliseconds(25)});
  reconnect.failed(kStart);
  CHECK(reconnect.next_try() == kStart + milliseconds(10));
  reconnect.failed(kStart);
  CHECK(reconnect.next_try() == kStart + milliseconds(20));
  reconnect.failed(kStart);
  CHECK(reconnect.next_try() == kStart + milliseconds(25));
  reconnect.succeeded();
  CHECK(reconnect.backoff() == milliseconds(10));
}
