#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/util/service_manager.h"

using namespace xenballoon;
using xenballoon::testing::TempDir;

TEST_CASE("parse_u64 accepts whole decimal numbers only") {
  CHECK(parse_u64("0") == 0u);
  CHECK(parse_u64("18446744073709551615") == 18446744073709551615ull);
  CHECK_FALSE(parse_u64("18446744073709551616"));
  CHECK_FALSE(parse_u64(""));
  CHECK_FALSE(parse_u64("-1"));
  CHECK_FALSE(parse_u64("+1"));
  CHECK_FALSE(parse_u64("12 "));
  CHECK_FALSE(parse_u64("0x10"));
}

TEST_CASE("parse_double rejects non-finite and partial input") {
  CHECK(parse_double("7.30") == Approx(7.30));
  CHECK(parse_double("-2") == Approx(-2.0));
  CHECK_FALSE(parse_double("nan"));
  CHECK_FALSE(parse_double("inf"));
  CHECK_FALSE(parse_double("1e400"));
  CHECK_FALSE(parse_double("1.2.3"));
}

TEST_CASE("trim strips surrounding whitespace") {
  CHECK(trim("  a b \n") == "a b");
  CHECK(trim(" \t\n").empty());
}

// ---- RereadableFile ----

namespace {

namespace fs = std::filesystem;

std::size_t open_descriptors() {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator()));
}

std::string read_text(xenballoon::RereadableFile& file) {
  auto text = file.read();
  REQUIRE(text.ok());
  return std::string(*text);
}

}  // namespace

TEST_CASE("RereadableFile: a regular file rewritten in place, replaced, removed and recreated") {
  TempDir dir;
  dir.write("value", "262144\n");
  xenballoon::RereadableFile file(dir.file("value"));
  CHECK(read_text(file) == "262144\n");

  dir.write("value", "1\n");  // shorter, same inode
  CHECK(read_text(file) == "1\n");

  dir.write("value.new", "196608\n");
  fs::rename(dir.file("value.new"), dir.file("value"));  // how test and sim trees change
  CHECK(read_text(file) == "196608\n");

  fs::remove(dir.file("value"));
  auto gone = file.read();
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().errnum == ENOENT);
  CHECK(gone.error().message.find(dir.file("value")) != std::string::npos);

  dir.write("value", "4\n");
  CHECK(read_text(file) == "4\n");
}

TEST_CASE("RereadableFile: reads a file larger than its first buffer whole, and caps it") {
  TempDir dir;
  std::string big;
  for (int i = 0; big.size() < 100000; ++i) big += "counter_" + std::to_string(i) + " 1\n";
  dir.write("big", big);
  xenballoon::RereadableFile file(dir.file("big"));
  CHECK(read_text(file) == big);

  xenballoon::RereadableFile capped(dir.file("big"), xenballoon::ProcfsRecords::kMany, 4096);
  auto too_large = capped.read();
  REQUIRE_FALSE(too_large.ok());
  CHECK(too_large.error().errnum == EFBIG);
  dir.write("big", "small\n");
  CHECK(read_text(capped) == "small\n");  // a failed read starts afresh next time
}

TEST_CASE("RereadableFile: a procfs file stays open and shows fresh content on every read") {
  xenballoon::RereadableFile uptime("/proc/uptime", xenballoon::ProcfsRecords::kOne);
  std::string first = read_text(uptime);
  std::size_t descriptors = open_descriptors();
  std::string later;
  for (int i = 0; i < 200 && (later.empty() || later == first); ++i) {
    ::usleep(5000);
    later = read_text(uptime);
  }
  CHECK(later != first);                     // /proc/uptime moves every 10 ms
  CHECK(open_descriptors() == descriptors);  // no descriptor opened per read
}

TEST_CASE("RereadableFile: a many-record procfs file beyond one page is read to its end") {
  // /proc/zoneinfo (one record per zone, its numbers moving, its lines fixed) comes a page at a
  // time; a reader stopping at the first short read would return at most one page and cut a
  // line. (/proc/self/maps would do too, but its line count moves with every allocation.)
  auto plain = xenballoon::read_file("/proc/zoneinfo");
  REQUIRE(plain.ok());
  if (plain->size() <= 4096) {
    WARN("/proc/zoneinfo is only " << plain->size() << " bytes here: nothing to prove");
    return;
  }
  xenballoon::RereadableFile zoneinfo("/proc/zoneinfo", xenballoon::ProcfsRecords::kMany);
  auto lines = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };
  for (int i = 0; i < 3; ++i) {  // the first read and re-reads from offset 0 alike
    std::string text = read_text(zoneinfo);
    CHECK(text.size() > 4096);
    CHECK(text.back() == '\n');
    CHECK(lines(text) == lines(*plain));
  }
}

TEST_CASE("RereadableFile: a sysfs attribute stays open, and moving hands the descriptor over") {
  const char* online = "/sys/devices/system/cpu/online";
  if (!fs::exists(online)) {
    WARN("no " << online << " here");
    return;
  }
  xenballoon::RereadableFile first(online);
  std::string text = read_text(first);
  std::size_t descriptors = open_descriptors();
  xenballoon::RereadableFile moved(std::move(first));
  CHECK(read_text(moved) == text);
  xenballoon::RereadableFile other("/proc/uptime", xenballoon::ProcfsRecords::kOne);
  CHECK_FALSE(read_text(other).empty());
  other = std::move(moved);  // closes the uptime descriptor
  CHECK(read_text(other) == text);
  CHECK(open_descriptors() == descriptors);
}

// ---- service manager notifications ----

namespace {

// A datagram socket standing in for the service manager's; unlinked on destruction.
struct NotifySocket {
  int fd = -1;
  std::string name;
  explicit NotifySocket(std::string socket_name) : name(std::move(socket_name)) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name[0] == '@') address.sun_path[0] = '\0';
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    ::close(fd);
    if (name[0] == '/') ::unlink(name.c_str());
  }
  std::string receive() const {
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
};

}  // namespace

TEST_CASE("service_manager::notify sends one datagram to a path or an abstract socket") {
  TempDir dir;
  NotifySocket path_socket(dir.file("notify"));
  ::setenv("NOTIFY_SOCKET", path_socket.name.c_str(), 1);
  REQUIRE(service_manager::notify("READY=1").ok());
  CHECK(path_socket.receive() == "READY=1");

  NotifySocket abstract_socket("@xenballoon-test-" + std::to_string(::getpid()));
  ::setenv("NOTIFY_SOCKET", abstract_socket.name.c_str(), 1);
  REQUIRE(service_manager::notify("WATCHDOG=1").ok());
  CHECK(abstract_socket.receive() == "WATCHDOG=1");

  ::setenv("NOTIFY_SOCKET", dir.file("nobody-listens").c_str(), 1);
  auto refused = service_manager::notify("READY=1");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find(dir.file("nobody-listens")) != std::string::npos);
  ::setenv("NOTIFY_SOCKET", "relative", 1);
  CHECK(service_manager::notify("READY=1").error().errnum == EINVAL);

  ::unsetenv("NOTIFY_SOCKET");
  CHECK(service_manager::notify("READY=1").ok());  // not under a service manager: nothing to do
}

TEST_CASE("service_manager::watchdog_interval honours WATCHDOG_PID") {
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  CHECK_FALSE(service_manager::watchdog_interval().has_value());
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  CHECK(service_manager::watchdog_interval() == std::chrono::seconds(30));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  CHECK(service_manager::watchdog_interval() == std::chrono::seconds(30));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  CHECK_FALSE(service_manager::watchdog_interval().has_value());  // meant for another process
  ::unsetenv("WATCHDOG_PID");
  for (const char* bad : {"0", "-5", "30s", ""}) {
    ::setenv("WATCHDOG_USEC", bad, 1);
    CHECK_FALSE(service_manager::watchdog_interval().has_value());
  }
  ::unsetenv("WATCHDOG_USEC");
}
