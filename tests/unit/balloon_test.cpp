#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"
#include "xenballoon/balloon/driver.h"
#include "xenballoon/util/file.h"

using namespace xenballoon;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kFixtures = XENBALLOON_FIXTURES;
const std::string kRealSys = kFixtures + "/real-xen-4.17/sys";
const std::string kLegacyProc = kFixtures + "/balloon/legacy-xenlinux/proc";
const std::string kXenMemory = "sys/devices/system/xen_memory/xen_memory0";

// sys/ and proc/ roots in a fresh temp dir, removed at scope exit.
class TempRoots : public xenballoon::testing::TempDir {
 public:
  std::string sys() const { return file("sys"); }
  std::string proc() const { return file("proc"); }
  BalloonDriver driver() const { return BalloonDriver(sys(), proc()); }

  void copy_real_sysfs() const {
    std::filesystem::copy(kRealSys, sys(), std::filesystem::copy_options::recursive);
  }
  void copy_legacy_proc() const {
    std::filesystem::copy(kLegacyProc, proc(), std::filesystem::copy_options::recursive);
  }
};

}  // namespace

// ---- the legacy /proc/xen/balloon parser ----

TEST_CASE("legacy balloon: the XenLinux format, hard limit unknown") {
  const std::string text =
      "Current allocation:   262144 kB\n"
      "Requested target:     196608 kB\n"
      "Low-mem balloon:       65536 kB\n"
      "High-mem balloon:          0 kB\n"
      "Driver pages:              0 kB\n"
      "Xen hard limit:          ??? kB\n";
  Result<BalloonState> state = parse_legacy_balloon(text, "/proc/xen/balloon");
  REQUIRE(state.ok());
  CHECK(state->current_kib == 262144);
  CHECK(state->target_kib == 196608);
  CHECK(state->low_kib == 65536);
  CHECK(state->high_kib == 0);
  CHECK(state->interface == BalloonInterface::kLegacyProc);
}

TEST_CASE("legacy balloon: older layout with a known hard limit, CRLF") {
  const std::string text =
      "Current allocation:   131072 kB\r\n"
      "Requested target:     131072 kB\r\n"
      "Low-mem balloon:           0 kB\r\n"
      "High-mem balloon:       4096 kB\r\n"
      "Xen hard limit:       262144 kB (inc.     8192 kB driver headroom)\r\n";
  Result<BalloonState> state = parse_legacy_balloon(text, "b");
  REQUIRE(state.ok());
  CHECK(state->target_kib == 131072);
  CHECK(state->high_kib == 4096);
}

TEST_CASE("legacy balloon: missing, repeated and malformed lines are errors") {
  const std::string current = "Current allocation: 1 kB\n";
  const std::string target = "Requested target: 1 kB\n";
  const std::string low = "Low-mem balloon: 0 kB\n";
  const std::string high = "High-mem balloon: 0 kB\n";

  Result<BalloonState> no_target = parse_legacy_balloon(current + low + high, "/proc/xen/balloon");
  REQUIRE_FALSE(no_target.ok());
  CHECK(no_target.error().message == "/proc/xen/balloon: no \"Requested target\" line");

  Result<BalloonState> garbage =
      parse_legacy_balloon(current + "Requested target: lots kB\n" + low + high, "b");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().message ==
        "b:2: value \"lots kB\" of \"Requested target\" is not \"<number> kB\"");

  CHECK_THAT(parse_legacy_balloon(current + target + target + low + high, "b").error().message,
             Contains("b:3: duplicate \"Requested target\""));
  CHECK_FALSE(parse_legacy_balloon(current + "Requested target: 1 MB\n" + low + high, "b").ok());
  CHECK_FALSE(parse_legacy_balloon(current + "Requested target: 1\n" + low + high, "b").ok());
  CHECK_FALSE(parse_legacy_balloon(current + "Requested target: -1 kB\n" + low + high, "b").ok());
  CHECK_FALSE(parse_legacy_balloon(current + target + low + high + "garbage\n", "b").ok());
  CHECK_FALSE(parse_legacy_balloon(current + target + low + "\x01\x02\x03\n" + high, "b").ok());
  CHECK(parse_legacy_balloon("", "b").error().message == "b: file is empty");
  CHECK_THAT(
      parse_legacy_balloon(current + target + low + "High-mem balloon: 0 k", "b").error().message,
      Contains("cut short"));
  CHECK_THAT(parse_legacy_balloon(
                 current + "Requested target: 18446744073709551616 kB\n" + low + high, "b")
                 .error()
                 .message,
             Contains("is not \"<number> kB\""));
}

// ---- detection ----

TEST_CASE("detect: sysfs in the real tree") {
  BalloonDriver driver(kRealSys, kFixtures + "/balloon/absent");
  Result<BalloonInterface> interface = driver.detect();
  REQUIRE(interface.ok());
  CHECK(*interface == BalloonInterface::kSysfs);
  CHECK(balloon_interface_name(*interface) == "sysfs");
  CHECK(driver.sysfs_dir() == kRealSys + "/devices/system/xen_memory/xen_memory0");
}

TEST_CASE("detect: legacy when sysfs is absent, sysfs preferred when both exist") {
  BalloonDriver legacy(kFixtures + "/balloon/absent", kLegacyProc);
  REQUIRE(legacy.detect().ok());
  CHECK(*legacy.detect() == BalloonInterface::kLegacyProc);
  CHECK(balloon_interface_name(*legacy.detect()) == "legacy-proc");
  CHECK(legacy.legacy_path() == kLegacyProc + "/xen/balloon");

  BalloonDriver both(kRealSys, kLegacyProc);
  CHECK(*both.detect() == BalloonInterface::kSysfs);
}

TEST_CASE("detect: neither interface is a clear ENOENT error") {
  TempRoots roots;
  BalloonDriver driver = roots.driver();
  Result<BalloonInterface> interface = driver.detect();
  REQUIRE_FALSE(interface.ok());
  CHECK(interface.error().errnum == ENOENT);
  CHECK(interface.error().message == "no Xen balloon driver: neither " +
                                         roots.file(kXenMemory + "/target_kb") + " nor " +
                                         roots.file("proc/xen/balloon") + " exists");
  CHECK(driver.read().error().errnum == ENOENT);
  CHECK(driver.set_target_kib(196608).error().errnum == ENOENT);
  CHECK(BalloonDriver().sysfs_dir() == "/sys/devices/system/xen_memory/xen_memory0");
  CHECK(BalloonDriver().legacy_path() == "/proc/xen/balloon");
}

// ---- reading ----

TEST_CASE("read: the real sysfs tree") {
  Result<BalloonState> state = BalloonDriver(kRealSys, kLegacyProc).read();
  REQUIRE(state.ok());
  CHECK(state->interface == BalloonInterface::kSysfs);
  CHECK(state->target_kib == 262144);
  CHECK(state->current_kib == 262144);
  CHECK(state->low_kib == 262144);
  CHECK(state->high_kib == 0);
}

TEST_CASE("read: the legacy /proc/xen/balloon tree") {
  Result<BalloonState> state = BalloonDriver(kFixtures + "/balloon/absent", kLegacyProc).read();
  REQUIRE(state.ok());
  CHECK(state->interface == BalloonInterface::kLegacyProc);
  CHECK(state->target_kib == 262144);
  CHECK(state->current_kib == 262144);
  CHECK(state->low_kib == 262144);
  CHECK(state->high_kib == 0);
}

TEST_CASE("read: garbage values name the file") {
  const std::string root = kFixtures + "/balloon/garbage/sys";
  Result<BalloonState> state = BalloonDriver(root, kLegacyProc).read();
  REQUIRE_FALSE(state.ok());
  CHECK(state.error().message == root + "/devices/system/xen_memory/xen_memory0/info/current_kb: " +
                                     "value \"26x144\" is not a number of KiB");
}

TEST_CASE("read: empty, negative, overflowing or missing sysfs values are errors") {
  TempRoots roots;
  roots.copy_real_sysfs();
  BalloonDriver driver = roots.driver();
  const std::string low_kb = kXenMemory + "/info/low_kb";

  roots.write(low_kb, "");
  CHECK_THAT(driver.read().error().message, Contains("info/low_kb: file is empty"));
  roots.write(low_kb, "-1\n");
  CHECK_FALSE(driver.read().ok());
  roots.write(low_kb, "18446744073709551616\n");
  CHECK_FALSE(driver.read().ok());
  roots.write(low_kb, std::string("12\0\n", 4));
  CHECK_THAT(driver.read().error().message, Contains("\"12\\x00\""));
  roots.write(low_kb, "65536");  // no newline: a single sysfs value cannot be cut short
  REQUIRE(driver.read().ok());
  CHECK(driver.read()->low_kib == 65536);

  std::filesystem::remove(roots.file(kXenMemory + "/info/high_kb"));
  Result<BalloonState> missing = driver.read();
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().errnum == ENOENT);
  CHECK_THAT(missing.error().message, Contains(roots.file(kXenMemory + "/info/high_kb")));
}

// ---- setting the target ----

TEST_CASE("set_target_kib: sysfs gets the KiB count as one decimal line") {
  TempRoots roots;
  roots.copy_real_sysfs();
  BalloonDriver driver = roots.driver();
  const std::string target_kb = kXenMemory + "/target_kb";
  // A sysfs attribute keeps nothing of earlier writes: start empty so the file shows one write.
  roots.write(target_kb, "");
  REQUIRE(driver.set_target_kib(196608).ok());
  CHECK(roots.read(target_kb) == "196608\n");
  CHECK(driver.read()->target_kib == 196608);

  roots.write(target_kb, "");
  REQUIRE(driver.set_target_kib(1).ok());
  CHECK(roots.read(target_kb) == "1\n");
  CHECK(roots.read(kXenMemory + "/target") == "268435456\n");
}

TEST_CASE("set_target_kib: legacy /proc/xen/balloon gets bytes") {
  TempRoots roots;
  roots.copy_legacy_proc();
  roots.write("proc/xen/balloon", "");
  REQUIRE(roots.driver().set_target_kib(196608).ok());
  CHECK(roots.read("proc/xen/balloon") == "201326592\n");
}

TEST_CASE("set_target_kib: refuses 0 and targets that overflow bytes") {
  TempRoots roots;
  roots.copy_real_sysfs();
  BalloonDriver driver = roots.driver();
  Result<void> zero = driver.set_target_kib(0);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().errnum == EINVAL);
  CHECK_THAT(zero.error().message, StartsWith("refusing balloon target 0 KiB"));
  CHECK(roots.read(kXenMemory + "/target_kb") == "262144\n");

  Result<void> huge = driver.set_target_kib(18014398509481984ull);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().errnum == EINVAL);
  CHECK(roots.read(kXenMemory + "/target_kb") == "262144\n");
}

TEST_CASE("set_target_kib: a failed write carries errno and the path") {
  TempRoots roots;
  // A directory where the attribute should be: open for writing fails even for root.
  std::filesystem::create_directories(roots.file(kXenMemory + "/target_kb"));
  Result<void> written = roots.driver().set_target_kib(196608);
  REQUIRE_FALSE(written.ok());
  CHECK(written.error().errnum == EISDIR);
  CHECK_THAT(written.error().message, StartsWith("cannot set balloon target 196608 KiB: "));
  CHECK_THAT(written.error().message, Contains(roots.file(kXenMemory + "/target_kb")));
}
