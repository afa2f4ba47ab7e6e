// The host memory file (dom0::parse_host_memory_text, dom0::FileHostMemory): both forms, every
// refusal with file:line, and the file re-read on every read().
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "../temp_dir.h"
#include "xenballoon/dom0/host_memory.h"

using namespace xenballoon;
using xenballoon::dom0::HostMemory;
using xenballoon::dom0::parse_host_memory_text;

namespace {

HostMemory parse_ok(std::string_view text) {
  auto parsed = parse_host_memory_text(text, "host");
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.ok());
  return *parsed;
}

std::string parse_error(std::string_view text) {
  auto parsed = parse_host_memory_text(text, "host");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message;
}

bool same(const HostMemory& a, const HostMemory& b) {
  return a.total_bytes == b.total_bytes && a.free_bytes == b.free_bytes;
}

}  // namespace

TEST_CASE("the host memory file is one line of total and free, or two key lines") {
  const HostMemory expected{4194304ull * 1024, 1048576ull * 1024};
  CHECK(same(parse_ok("4194304 1048576\n"), expected));
  CHECK(same(parse_ok("4194304\t1048576"), expected));
  CHECK(same(parse_ok("total_kib 4194304\nfree_kib 1048576\n"), expected));
  CHECK(same(parse_ok("free_kib=1048576\ntotal_kib=4194304\n"), expected));
  CHECK(same(parse_ok("# written by the toolstack\n\ntotal_kib: 4194304\nfree_kib:  1048576\n"),
             expected));
  CHECK(same(parse_ok("  4194304   1048576  \n\n"), expected));
  CHECK(same(parse_ok("4194304 4194304\n"), HostMemory{4194304ull * 1024, 4194304ull * 1024}));
  CHECK(same(parse_ok("1 0\n"), HostMemory{1024, 0}));
}

TEST_CASE("a malformed host memory file is refused with its name and line") {
  CHECK(parse_error("") == "host: no host memory figures (empty file)");
  CHECK(parse_error("\n# nothing\n") == "host: no host memory figures (empty file)");
  CHECK(parse_error("total_kib 5\n") == "host: free_kib: missing");
  CHECK(parse_error("free_kib 5\n") == "host: total_kib: missing");
  CHECK(parse_error("4194304\n").rfind("host:1: expected", 0) == 0);
  CHECK(parse_error("4194304 1 2\n").rfind("host:1: expected", 0) == 0);
  CHECK(parse_error("-5 1\n").rfind("host:1: expected", 0) == 0);
  CHECK(parse_error("4194304 x\n").rfind("host:1: free_kib: expected a size in KiB", 0) == 0);
  CHECK(parse_error("1 2\n").rfind("host:1: free_kib: 2 KiB is more than total_kib 1 KiB", 0) == 0);
  CHECK(parse_error("0 0\n") == "host:1: total_kib: must not be 0");
  CHECK(parse_error("4194304 1048576\n5 5\n").rfind("host:2: unexpected line", 0) == 0);
  CHECK(parse_error("total_kib 5\ntotal_kib 6\nfree_kib 1\n") ==
        "host:2: total_kib: given twice (first on line 1)");
  CHECK(parse_error("total_kib 5\nused_kib 1\n").rfind("host:2: expected", 0) == 0);
  CHECK(
      parse_error("total_kib 5 6\nfree_kib 1\n").rfind("host:1: total_kib: expected one size", 0) ==
      0);
  CHECK(parse_error("total_kib 18446744073709551615\nfree_kib 1\n")
            .rfind("host:1: total_kib: 18446744073709551615 KiB is past the largest size", 0) == 0);
  CHECK(parse_error("total_kib 99999999999999999999999\nfree_kib 1\n")
            .rfind("host:1: total_kib: expected a size in KiB", 0) == 0);
  // Binary garbage is quoted, not echoed.
  const std::string garbage = parse_error(std::string("\x01\xff\x1b[2J 5\n", 9));
  CHECK(garbage.find('\x1b') == std::string::npos);
  CHECK(garbage.find("\\x1b") != std::string::npos);
}

TEST_CASE("FileHostMemory reads the file again every time and says why it cannot") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/host-memory";
  dom0::FileHostMemory source(path);
  CHECK_FALSE(source.read());
  auto missing = source.read_checked();
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find(path) != std::string::npos);

  std::ofstream(path) << "2048 1024\n";
  auto first = source.read();
  REQUIRE(first);
  CHECK(first->total_bytes == 2048 * 1024);
  CHECK(first->free_bytes == 1024 * 1024);

  // Replaced by rename, as the simulated host writes it.
  std::ofstream(path + ".tmp") << "total_kib 4096\nfree_kib 512\n";
  std::filesystem::rename(path + ".tmp", path);
  auto second = source.read();
  REQUIRE(second);
  CHECK(second->total_bytes == 4096 * 1024);
  CHECK(second->free_bytes == 512 * 1024);

  std::ofstream(path) << "4096 8192\n";
  CHECK_FALSE(source.read());
  CHECK(source.read_checked().error().message.rfind(path + ":1: free_kib: ", 0) == 0);
}
