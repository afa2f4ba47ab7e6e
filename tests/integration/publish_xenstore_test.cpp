// The data/xenballoon/ layout through a real xenstored-lite: what publish::encode writes as the
// guest (its own socket, one transaction, the real libxenstore), dom0 reads back and
// publish::decode_value turns into the same published fields.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "process.h"
#include "xenballoon/publish/guest_stats.h"
#include "xenballoon/publish/layout.h"
#include "xs_client.h"

using namespace xenballoon;
using namespace xenballoon::publish;
using namespace xenballoon::testing;
using namespace std::chrono_literals;

namespace {

constexpr unsigned kDomid = 1;

// The guest's home as libxl lays it out: data/ owned by the guest, then introduced.
void make_guest(XsHandle& dom0) {
  std::string home = "/local/domain/" + std::to_string(kDomid);
  REQUIRE(dom0.write(home + "/name", "web") == 0);
  REQUIRE(dom0.mkdir(home + "/data") == 0);
  xs_permissions readable[2] = {{0, XS_PERM_NONE}, {kDomid, XS_PERM_READ}};
  xs_permissions owned[1] = {{kDomid, XS_PERM_NONE}};
  REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, home.c_str(), readable, 2));
  REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, (home + "/data").c_str(), owned, 1));
  REQUIRE(xs_introduce_domain(dom0.get(), kDomid, 1000 + kDomid, 1));
}

GuestStats stats_to_publish() {
  GuestStats s;
  s.layout = kLayoutVersion;
  s.agent = "xenballoond 0.1.0";
  s.heartbeat_unix_seconds = 1795663700;
  s.mode = "selfballoon";
  s.policy = "classic";
  s.target_kib = 172032;
  s.floor_kib = 131072;
  s.current_kib = 262144;
  for (std::size_t i = 0; i < kMeminfoFields.size(); ++i) s.meminfo_kib.known[i] = 2000 + i * 91;
  for (std::size_t i = 0; i < kVmstatCounters.size(); ++i) s.vmstat.known[i] = 500 + i * 3;
  // A newer kernel's fields: the list no longer fits one value and is cut.
  for (int i = 0; i < 100; ++i) {
    s.meminfo_kib.other.emplace_back("NewerKernelField" + std::to_string(i), 7);
  }
  s.uptime_seconds = 3600.5;
  s.idle_seconds = 7000.25;
  s.psi_some = Psi{2.5, 1.25, 0.5, 123456};
  s.psi_full = Psi{0.75, 0.0, 0.0, 42};
  s.selfballoon = true;
  return s;
}

}  // namespace

TEST_CASE("a publication written by the guest through xenstored-lite decodes back in dom0") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  REQUIRE(dom0);
  make_guest(dom0);
  REQUIRE(wait_for_socket(xsd.domain_socket(kDomid), 2s));
  XsHandle guest(xsd.domain_socket(kDomid));
  REQUIRE(guest);

  const GuestStats stats = stats_to_publish();
  const Encoded encoded = encode(stats);
  CHECK(encoded.truncated == std::vector<std::string>{"meminfo"});

  // As the agent publishes: every key in one transaction, relative to the guest's home.
  const std::string dir = std::string(kDir) + "/";
  bool committed = false;
  for (int attempt = 0; attempt < 5 && !committed; ++attempt) {
    xs_transaction_t t = xs_transaction_start(guest.get());
    REQUIRE(t != XBT_NULL);
    for (const auto& [key, value] : encoded.values) {
      INFO(key << " (" << value.size() << " bytes)");
      REQUIRE(guest.write(dir + key, value, t) == 0);
    }
    committed = xs_transaction_end(guest.get(), t, false);
  }
  REQUIRE(committed);

  // dom0 lists the directory and decodes what it finds.
  const std::string home_dir = "/local/domain/" + std::to_string(kDomid) + "/" + std::string(kDir);
  std::vector<std::string> children;
  REQUIRE(dom0.list(home_dir, &children) == 0);
  CHECK(children.size() == encoded.values.size());
  GuestStats decoded;
  for (const auto& key : children) {
    std::string value;
    REQUIRE(dom0.read(home_dir + "/" + key, &value) == 0);
    INFO(key);
    CHECK(value == encoded.values.at(key));
    CHECK(decode_value(key, value, &decoded) == std::nullopt);
  }

  GuestStats expected = stats;
  expected.meminfo_kib.other.clear();  // published, but not the vocabulary's
  CHECK(decoded == expected);
}
