#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"
#include "xenballoon/procfs/meminfo.h"
#include "xenballoon/procfs/pressure.h"
#include "xenballoon/procfs/reader.h"
#include "xenballoon/procfs/uptime.h"
#include "xenballoon/procfs/vmstat.h"
#include "xenballoon/util/file.h"

using namespace xenballoon;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using xenballoon::testing::TempDir;

namespace {

const std::string kFixtures = XENBALLOON_FIXTURES;
const std::string kRealProc = kFixtures + "/real-xen-4.17/proc";

std::string fixture_text(const std::string& path) {
  Result<std::string> text = read_file(path);
  REQUIRE(text.ok());
  return *text;
}

}  // namespace

// ---- meminfo ----

TEST_CASE("meminfo: the real Xen guest file keeps every field in order, in bytes") {
  Result<Meminfo> parsed = parse_meminfo(fixture_text(kRealProc + "/meminfo"), "/proc/meminfo");
  REQUIRE(parsed.ok());
  const Meminfo& meminfo = *parsed;
  REQUIRE(meminfo.fields.size() == 47);
  CHECK(meminfo.fields.front().name == "MemTotal");
  CHECK(meminfo.fields.front().value == 204924ull * 1024);
  CHECK(meminfo.fields.front().has_kb_unit);
  CHECK(meminfo.fields[8].name == "Active(anon)");
  CHECK(meminfo.fields.back().name == "DirectMap2M");
  CHECK(meminfo.get("MemFree") == 176464ull * 1024);
  CHECK(meminfo.get("Committed_AS") == 5136ull * 1024);
  CHECK(meminfo.get("VmallocTotal") == 34359738367ull * 1024);
  CHECK(meminfo.get("Buffers") == 0u);
  CHECK_FALSE(meminfo.get("HugePages_Total"));
  CHECK_FALSE(meminfo.get("memtotal"));
  CHECK(check_plausible_for_ballooning(meminfo, "/proc/meminfo").ok());
}

TEST_CASE("meminfo: unitless fields are counts") {
  Result<Meminfo> parsed = parse_meminfo(
      "MemTotal: 1024 kB\nHugePages_Total:       3\nHugepagesize:       2048 kB\n", "m");
  REQUIRE(parsed.ok());
  const MeminfoField* huge_pages = parsed->find("HugePages_Total");
  REQUIRE(huge_pages != nullptr);
  CHECK(huge_pages->value == 3);
  CHECK_FALSE(huge_pages->has_kb_unit);
  CHECK(parsed->get("Hugepagesize") == 2048u * 1024);
}

TEST_CASE("meminfo: a non-number names the file, line and field") {
  Result<Meminfo> parsed = parse_meminfo("MemTotal: 204924 kB\nMemFree: abc kB\n", "/proc/meminfo");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == "/proc/meminfo:2: value \"abc\" of \"MemFree\" is not a number");
  CHECK_FALSE(parse_meminfo("MemFree: -5 kB\n", "m").ok());
  CHECK_FALSE(parse_meminfo("MemFree: 1.5 kB\n", "m").ok());
  CHECK_FALSE(parse_meminfo("MemFree: 0x10 kB\n", "m").ok());
}

TEST_CASE("meminfo: empty text is rejected") {
  for (const char* text : {"", "\n", "\n\n  \n", " "}) {
    Result<Meminfo> parsed = parse_meminfo(text, "/proc/meminfo");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "/proc/meminfo: file is empty");
  }
}

TEST_CASE("meminfo: a text cut mid-line is rejected, not read as a smaller value") {
  Result<Meminfo> parsed = parse_meminfo("MemTotal: 204924 kB\nMemFree:   17", "/proc/meminfo");
  REQUIRE_FALSE(parsed.ok());
  CHECK_THAT(parsed.error().message, StartsWith("/proc/meminfo:2: "));
  CHECK_THAT(parsed.error().message, Contains("cut short"));
  CHECK_FALSE(parse_meminfo("MemTotal: 204924 kB", "m").ok());
  CHECK_FALSE(parse_meminfo("MemTotal: 204924 kB\nMemFr", "m").ok());
}

TEST_CASE("meminfo: garbage and binary bytes are rejected with a readable message") {
  std::string elf(
      "\x7f"
      "ELF\x02\x01\x01\0\0\0:\n",
      12);
  Result<Meminfo> binary = parse_meminfo(elf, "/proc/meminfo");
  REQUIRE_FALSE(binary.ok());
  CHECK_THAT(binary.error().message, StartsWith("/proc/meminfo:1: line \"\\x7fELF\\x02"));

  std::string nul_in_value("MemFree: 12\0 kB\n", 16);
  CHECK_FALSE(parse_meminfo(nul_in_value, "m").ok());
  CHECK_FALSE(parse_meminfo("hello world\n", "m").ok());
  CHECK_FALSE(parse_meminfo(": 12 kB\n", "m").ok());
  CHECK_FALSE(parse_meminfo("Mem Total: 12 kB\n", "m").ok());
  CHECK_FALSE(parse_meminfo("MemTotal:\n", "m").ok());
  CHECK_FALSE(parse_meminfo("MemTotal: 12 MB\n", "m").ok());
  CHECK_FALSE(parse_meminfo("MemTotal: 12 kB kB\n", "m").ok());
  CHECK_FALSE(parse_meminfo("MemTotal: 12 kB\n\x01\x02\x03\n", "m").ok());
}

TEST_CASE("meminfo: long garbage is cut in the message") {
  Result<Meminfo> parsed = parse_meminfo(std::string(5000, 'x') + "\n", "m");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message.size() < 200);
}

TEST_CASE("meminfo: huge values are checked for overflow") {
  CHECK(parse_meminfo("Big: 18446744073709551615\n", "m")->get("Big") == 18446744073709551615ull);
  Result<Meminfo> too_big = parse_meminfo("Big: 18446744073709551616\n", "/proc/meminfo");
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().message ==
        "/proc/meminfo:1: value \"18446744073709551616\" of \"Big\" is out of range");

  // 2^54 - 1 kB is the largest that still fits in 64-bit bytes.
  CHECK(parse_meminfo("Big: 18014398509481983 kB\n", "m")->get("Big") ==
        18014398509481983ull * 1024);
  Result<Meminfo> overflow = parse_meminfo("Big: 18014398509481984 kB\n", "m");
  REQUIRE_FALSE(overflow.ok());
  CHECK_THAT(overflow.error().message, Contains("overflows"));
}

TEST_CASE("meminfo and vmstat: the kernel's line shape and other spacings read the same") {
  // The kernel's exact shape takes a one-pass path; tabs, extra blanks and leading zeros go the
  // general way. Both must agree on every value.
  auto kernel = parse_meminfo("MemTotal:         204924 kB\nHugePages_Total:       0\n", "m");
  auto other = parse_meminfo("MemTotal:\t0204924  kB\n  HugePages_Total: 0\n", "m");
  REQUIRE(kernel.ok());
  REQUIRE(other.ok());
  CHECK(kernel->get("MemTotal") == other->get("MemTotal"));
  CHECK(kernel->find("HugePages_Total")->has_kb_unit ==
        other->find("HugePages_Total")->has_kb_unit);
  CHECK_FALSE(parse_meminfo("MemTotal: 12 kB extra\n", "m").ok());
  CHECK_FALSE(parse_meminfo("MemTotal: 12 KB\n", "m").ok());

  auto fast = parse_vmstat("pswpin 18446744073709551615\npgmajfault 7\n", "v");
  auto slow = parse_vmstat("pswpin\t18446744073709551615\n pgmajfault  007 \n", "v");
  REQUIRE(fast.ok());
  REQUIRE(slow.ok());
  CHECK(fast->get("pswpin") == slow->get("pswpin"));
  CHECK(fast->get("pgmajfault") == slow->get("pgmajfault"));
  CHECK_THAT(parse_vmstat("pswpin 18446744073709551616\n", "v").error().message,
             Contains("out of range"));
}

TEST_CASE("vmstat: with a selection, only selected counters must be unique") {
  const std::vector<std::string> keep = {"pswpin"};
  auto unselected_twice = parse_vmstat("nr_free_pages 1\npswpin 2\nnr_free_pages 3\n", "v", &keep);
  REQUIRE(unselected_twice.ok());
  CHECK(unselected_twice->counters.size() == 1);
  CHECK(unselected_twice->get("pswpin") == 2u);
  auto selected_twice = parse_vmstat("pswpin 1\nnr_free_pages 1\npswpin 3\n", "v", &keep);
  REQUIRE_FALSE(selected_twice.ok());
  CHECK(selected_twice.error().message == "v:3: duplicate \"pswpin\" (first on line 1)");
  CHECK_FALSE(parse_vmstat("nr_free_pages x\npswpin 2\n", "v", &keep).ok());  // syntax everywhere
}

TEST_CASE("meminfo: a duplicate name is rejected") {
  Result<Meminfo> parsed =
      parse_meminfo("MemTotal: 1 kB\nMemFree: 2 kB\nMemTotal: 3 kB\n", "/proc/meminfo");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == "/proc/meminfo:3: duplicate \"MemTotal\" (first on line 1)");
}

TEST_CASE("meminfo: CRLF line ends and trailing spaces are accepted") {
  Result<Meminfo> parsed =
      parse_meminfo("MemTotal:  204924 kB\r\nMemFree: 17 kB   \r\nHugePages_Free: 0 \t\n", "m");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->fields.size() == 3);
  CHECK(parsed->get("MemTotal") == 204924u * 1024);
  CHECK(parsed->get("MemFree") == 17u * 1024);
  CHECK(parsed->get("HugePages_Free") == 0u);
}

TEST_CASE("meminfo: missing fields parse, and the ballooning check names what is missing") {
  Result<Meminfo> no_committed = parse_meminfo("MemTotal: 204924 kB\nMemFree: 1 kB\n", "m");
  REQUIRE(no_committed.ok());
  Result<void> plausible = check_plausible_for_ballooning(*no_committed, "/proc/meminfo");
  REQUIRE_FALSE(plausible.ok());
  CHECK_THAT(plausible.error().message, StartsWith("/proc/meminfo: no Committed_AS"));

  Result<Meminfo> no_total = parse_meminfo("Committed_AS: 5136 kB\n", "m");
  REQUIRE(no_total.ok());
  CHECK(check_plausible_for_ballooning(*no_total, "m").error().message == "m: no MemTotal");

  Result<Meminfo> zero_total = parse_meminfo("MemTotal: 0 kB\nCommitted_AS: 1 kB\n", "m");
  REQUIRE(zero_total.ok());
  CHECK(check_plausible_for_ballooning(*zero_total, "m").error().message == "m: MemTotal is 0");

  Result<Meminfo> unitless = parse_meminfo("MemTotal: 5\nCommitted_AS: 1 kB\n", "m");
  REQUIRE(unitless.ok());
  CHECK_FALSE(check_plausible_for_ballooning(*unitless, "m").ok());
}

// ---- vmstat ----

TEST_CASE("vmstat: the real Xen guest file keeps every counter in order") {
  Result<Vmstat> parsed = parse_vmstat(fixture_text(kRealProc + "/vmstat"), "/proc/vmstat");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->counters.size() == 173);
  CHECK(parsed->counters.front().name == "nr_free_pages");
  CHECK(parsed->counters.front().value == 44110);
  CHECK(parsed->counters[11].name == "numa_hit");
  CHECK(parsed->counters.back().name == "nr_unstable");
  CHECK(parsed->get("numa_hit") == 28087u);
  CHECK(parsed->get("nr_free_pages") == 44110u);
  CHECK_FALSE(parsed->get("no_such_counter"));
}

TEST_CASE("vmstat: malformed lines and values are rejected") {
  Result<Vmstat> not_number = parse_vmstat("nr_free_pages 1\npgfault x1\n", "/proc/vmstat");
  REQUIRE_FALSE(not_number.ok());
  CHECK(not_number.error().message ==
        "/proc/vmstat:2: value \"x1\" of \"pgfault\" is not a number");

  Result<Vmstat> three_tokens = parse_vmstat("pgfault 1 2\n", "/proc/vmstat");
  REQUIRE_FALSE(three_tokens.ok());
  CHECK(three_tokens.error().message ==
        "/proc/vmstat:1: line \"pgfault 1 2\" is not \"name value\"");

  CHECK_FALSE(parse_vmstat("pgfault\n", "v").ok());
  CHECK_FALSE(parse_vmstat("pgfault: 1\n", "v").ok());
  CHECK_FALSE(parse_vmstat("pgfault -1\n", "v").ok());
  CHECK_FALSE(parse_vmstat(std::string("pg\0fault 1\n", 11), "v").ok());
  CHECK_FALSE(parse_vmstat("\xff\xfe\xfd 1\n", "v").ok());
}

TEST_CASE("vmstat: empty, cut short, overflow and duplicates are rejected") {
  CHECK(parse_vmstat("", "/proc/vmstat").error().message == "/proc/vmstat: file is empty");
  CHECK_THAT(parse_vmstat("nr_free_pages 44110\nnr_zone_", "v").error().message,
             Contains("cut short"));
  CHECK(parse_vmstat("pgfault 18446744073709551615\n", "v")->get("pgfault") ==
        18446744073709551615ull);
  CHECK_THAT(parse_vmstat("pgfault 18446744073709551616\n", "v").error().message,
             Contains("out of range"));
  CHECK(parse_vmstat("a 1\nb 2\na 3\n", "/proc/vmstat").error().message ==
        "/proc/vmstat:3: duplicate \"a\" (first on line 1)");
}

TEST_CASE("vmstat: CRLF line ends and extra blanks are accepted") {
  Result<Vmstat> parsed = parse_vmstat("nr_free_pages   44110 \r\npgfault\t7\r\n", "v");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->counters.size() == 2);
  CHECK(parsed->get("nr_free_pages") == 44110u);
  CHECK(parsed->get("pgfault") == 7u);
}

// ---- uptime ----

TEST_CASE("uptime: the real Xen guest file") {
  Result<Uptime> parsed = parse_uptime(fixture_text(kRealProc + "/uptime"), "/proc/uptime");
  REQUIRE(parsed.ok());
  CHECK(parsed->uptime_seconds == Approx(7.30));
  CHECK(parsed->idle_seconds == Approx(2.52));
}

TEST_CASE("uptime: accepts CRLF, trailing blanks and idle above uptime") {
  Result<Uptime> parsed = parse_uptime("12345.67 98765.43  \r\n", "u");
  REQUIRE(parsed.ok());
  CHECK(parsed->uptime_seconds == Approx(12345.67));
  CHECK(parsed->idle_seconds == Approx(98765.43));
  CHECK(parse_uptime("0 0\n", "u").ok());
}

TEST_CASE("uptime: rejects anything but two non-negative finite numbers on one line") {
  Result<Uptime> negative = parse_uptime("-7.30 2.52\n", "/proc/uptime");
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.error().message ==
        "/proc/uptime:1: uptime \"-7.30\" is not a non-negative number of seconds");
  CHECK_THAT(parse_uptime("7.30 abc\n", "u").error().message, Contains("idle time \"abc\""));
  CHECK_FALSE(parse_uptime("", "u").ok());
  CHECK_FALSE(parse_uptime("7.30\n", "u").ok());
  CHECK_FALSE(parse_uptime("7.30 2.52 1\n", "u").ok());
  CHECK_FALSE(parse_uptime("7.30 2.52\n7.30 2.52\n", "u").ok());
  CHECK_FALSE(parse_uptime("7.30 2.5", "u").ok());
  CHECK_FALSE(parse_uptime("nan 2.52\n", "u").ok());
  CHECK_FALSE(parse_uptime("inf 2.52\n", "u").ok());
  CHECK_FALSE(parse_uptime("1e400 2.52\n", "u").ok());
  CHECK_FALSE(parse_uptime(std::string(400, '9') + ".0 1\n", "u").ok());
  CHECK_FALSE(parse_uptime(std::string("7.30\0 2.52\n", 11), "u").ok());
}

// ---- pressure ----

TEST_CASE("pressure: the real Xen guest file has some and full") {
  Result<PressureStats> parsed =
      parse_pressure(fixture_text(kRealProc + "/pressure/memory"), "/proc/pressure/memory");
  REQUIRE(parsed.ok());
  CHECK(parsed->some.avg10 == 0.0);
  CHECK(parsed->some.total_us == 0);
  REQUIRE(parsed->full.has_value());
  CHECK(parsed->full->avg300 == 0.0);
}

TEST_CASE("pressure: values, a some-only file and unknown keys") {
  Result<PressureStats> parsed =
      parse_pressure("some avg10=1.50 avg60=0.75 avg300=0.25 total=123456789 future=7\r\n", "p");
  REQUIRE(parsed.ok());
  CHECK(parsed->some.avg10 == Approx(1.50));
  CHECK(parsed->some.avg60 == Approx(0.75));
  CHECK(parsed->some.avg300 == Approx(0.25));
  CHECK(parsed->some.total_us == 123456789u);
  CHECK_FALSE(parsed->full.has_value());

  Result<PressureStats> reordered = parse_pressure(
      "full total=9 avg300=3 avg60=2 avg10=1\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
      "p");
  REQUIRE(reordered.ok());
  REQUIRE(reordered->full.has_value());
  CHECK(reordered->full->avg10 == Approx(1));
  CHECK(reordered->full->total_us == 9u);
  CHECK(parse_pressure("some avg10=100.00 avg60=0 avg300=0 total=18446744073709551615\n", "p")
            ->some.total_us == 18446744073709551615ull);
}

TEST_CASE("pressure: missing or malformed required values are errors") {
  Result<PressureStats> no_total =
      parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00\n", "/proc/pressure/memory");
  REQUIRE_FALSE(no_total.ok());
  CHECK(no_total.error().message == "/proc/pressure/memory:1: \"some\" lacks \"total\"");
  CHECK_THAT(parse_pressure("some avg60=0 avg300=0 total=0\n", "p").error().message,
             Contains("lacks \"avg10\""));
  CHECK_THAT(parse_pressure("some avg10=x avg60=0 avg300=0 total=0\n", "p").error().message,
             Contains("value \"x\" of \"avg10\""));
  CHECK_FALSE(parse_pressure("some avg10=-1 avg60=0 avg300=0 total=0\n", "p").ok());
  CHECK_FALSE(parse_pressure("some avg10=nan avg60=0 avg300=0 total=0\n", "p").ok());
  CHECK_FALSE(parse_pressure("some avg10= avg60=0 avg300=0 total=0\n", "p").ok());
  CHECK_FALSE(parse_pressure("some avg10=0 avg60=0 avg300=0 total=-1\n", "p").ok());
  CHECK_THAT(parse_pressure("some avg10=0 avg60=0 avg300=0 total=18446744073709551616\n", "p")
                 .error()
                 .message,
             Contains("out of range"));
  CHECK_FALSE(parse_pressure("some avg10=0 avg60=0 avg300=0 total=0 junk\n", "p").ok());
  CHECK_FALSE(parse_pressure("full avg10=0 avg60=0 avg300=0 total=0\n", "p").ok());
}

TEST_CASE("pressure: repeated lines or keys, unknown kinds, empty and cut-short text") {
  const std::string some = "some avg10=0 avg60=0 avg300=0 total=0\n";
  CHECK(parse_pressure(some + some, "p").error().message == "p:2: repeated \"some\" line");
  CHECK_THAT(parse_pressure("some avg10=0 avg10=1 avg60=0 avg300=0 total=0\n", "p").error().message,
             Contains("repeated \"avg10\""));
  CHECK_THAT(parse_pressure(some + "half avg10=0 avg60=0 avg300=0 total=0\n", "p").error().message,
             Contains("line kind \"half\""));
  CHECK(parse_pressure("", "p").error().message == "p: file is empty");
  CHECK_THAT(parse_pressure("some avg10=0 avg60=0 avg300=0 tot", "p").error().message,
             Contains("cut short"));
  CHECK_FALSE(parse_pressure("\x01\x02\x03\n", "p").ok());
}

// ---- reader ----

TEST_CASE("reader: reads every file of the real tree") {
  ProcfsReader reader(kRealProc);
  Result<Meminfo> meminfo = reader.meminfo();
  REQUIRE(meminfo.ok());
  CHECK(meminfo->get("MemTotal") == 204924u * 1024);
  Result<Vmstat> vmstat = reader.vmstat();
  REQUIRE(vmstat.ok());
  CHECK(vmstat->counters.size() == 173);
  Result<Uptime> uptime = reader.uptime();
  REQUIRE(uptime.ok());
  CHECK(uptime->uptime_seconds == Approx(7.30));
  Result<PressureStats> pressure = reader.pressure_memory();
  REQUIRE(pressure.ok());
  CHECK(pressure->full.has_value());

  CHECK(ProcfsReader(kRealProc + "/").meminfo().ok());
  CHECK(ProcfsReader().root() == "/proc");
}

TEST_CASE("reader: a kernel without PSI gives ENOENT for pressure only") {
  ProcfsReader reader(kFixtures + "/procfs/no-psi/proc");
  CHECK(reader.meminfo().ok());
  Result<PressureStats> pressure = reader.pressure_memory();
  REQUIRE_FALSE(pressure.ok());
  CHECK(pressure.error().errnum == ENOENT);
  CHECK_THAT(pressure.error().message, Contains("/procfs/no-psi/proc/pressure/memory"));
}

TEST_CASE("reader: parse errors name the full path and line") {
  const std::string root = kFixtures + "/procfs/bad/proc";
  ProcfsReader reader(root);
  Result<Meminfo> meminfo = reader.meminfo();
  REQUIRE_FALSE(meminfo.ok());
  CHECK(meminfo.error().message ==
        root + "/meminfo:2: value \"abc\" of \"MemFree\" is not a number");
  CHECK(reader.vmstat().error().message ==
        root + "/vmstat:3: duplicate \"nr_free_pages\" (first on line 1)");
  CHECK_THAT(reader.uptime().error().message, StartsWith(root + "/uptime:1: uptime \"-7.30\""));
  CHECK(reader.pressure_memory().error().message ==
        root + "/pressure/memory:1: \"some\" lacks \"total\"");
}

TEST_CASE("reader: a missing root fails with ENOENT and the path") {
  TempDir dir;
  ProcfsReader reader(dir.file("absent"));
  Result<Meminfo> meminfo = reader.meminfo();
  REQUIRE_FALSE(meminfo.ok());
  CHECK(meminfo.error().errnum == ENOENT);
  CHECK_THAT(meminfo.error().message, Contains(dir.file("absent/meminfo")));
  CHECK(reader.uptime().error().errnum == ENOENT);
}

TEST_CASE("reader: a 2 MiB file fails cleanly at the read cap") {
  TempDir dir;
  std::string huge;
  for (int i = 0; huge.size() < (2u << 20); ++i) huge += "counter_" + std::to_string(i) + " 1\n";
  dir.write("vmstat", huge);
  dir.write("meminfo", "MemTotal: " + std::string(2u << 20, '1') + " kB\n");
  ProcfsReader reader(dir.path());
  for (const Error& error : {reader.vmstat().error(), reader.meminfo().error()}) {
    CHECK(error.errnum == EFBIG);
    CHECK_THAT(error.message, Contains("file too large: " + dir.path()));
  }
}
