// dom0/legacy_formats.h: the 2008 xenballoond's meminfo text and KiB values, bounded.
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "xenballoon/dom0/legacy_formats.h"

using namespace xenballoon;
using namespace xenballoon::dom0;

TEST_CASE("the 2008 meminfo text converts to the layout's lines, bounded") {
  std::string lines;
  CHECK_FALSE(legacy_meminfo_to_layout("MemTotal:   204924 kB\nHugePages_Total:   0\n", &lines));
  CHECK(lines == "MemTotal 204924\nHugePages_Total 0\n");
  CHECK(legacy_meminfo_to_layout("MemTotal: lots kB", &lines) == "malformed");
  CHECK(legacy_meminfo_to_layout("Mem\"Total: 5 kB", &lines) == "malformed");
  CHECK(legacy_meminfo_to_layout(std::string(5000, 'x'), &lines) == "too_large");
  std::optional<std::uint64_t> kib;
  CHECK_FALSE(decode_kib_value(" 2040000\n", &kib));
  CHECK(kib == 2040000u);
  CHECK(decode_kib_value("-5", &kib) == "malformed");
  CHECK_FALSE(kib);
  CHECK(decode_kib_value("17592186044417", &kib) == "out_of_range");
}
