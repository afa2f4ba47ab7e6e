// publish/layout.h: encode and decode_value against each other (the published fields survive the
// round trip), the encoder's bounds (every value below kMaxValueBytes, a long list cut at a whole
// line and named in `truncated`), the decoder's refusals of hostile values and what they clear.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/publish/guest_stats.h"
#include "xenballoon/publish/layout.h"

using namespace xenballoon;
using namespace xenballoon::publish;

namespace {

// Every field set, every known /proc name, values that print and parse back exactly.
GuestStats full_stats() {
  GuestStats s;
  s.layout = kLayoutVersion;
  s.agent = "xenballoond 0.1.0";
  s.heartbeat_unix_seconds = 1795663700;
  s.mode = "directed";
  s.policy = "pressure";
  s.target_kib = 172032;
  s.floor_kib = 131072;
  s.current_kib = 262144;
  for (std::size_t i = 0; i < kMeminfoFields.size(); ++i) s.meminfo_kib.known[i] = 1000 + i * 37;
  s.meminfo_kib.other = {{"SomethingNew", 5}, {"Unaccepted", 0}};
  for (std::size_t i = 0; i < kVmstatCounters.size(); ++i) s.vmstat.known[i] = 70000 + i * 1001;
  s.vmstat.other = {{"nr_free_pages", 5}};
  s.uptime_seconds = 7.25;
  s.idle_seconds = 2.5;
  s.psi_some = Psi{1.5, 0.25, 0.75, 2500000};
  s.psi_full = Psi{0.5, 0.25, 0.0, 1000};
  s.dom0_target_kib = 262144;
  s.static_max_kib = 524288;
  s.selfballoon = false;
  return s;
}

// What a decoder knows after reading every encoded key of `s`.
GuestStats published_part(GuestStats s) {
  s.dom0_target_kib.reset();
  s.static_max_kib.reset();
  s.meminfo_kib.other.clear();
  s.vmstat.other.clear();
  s.selfballoon.reset();
  if (s.mode && *s.mode != "dry-run") s.selfballoon = *s.mode == "selfballoon";
  return s;
}

GuestStats decode_all(const Encoded& encoded) {
  GuestStats out;
  for (const auto& [key, value] : encoded.values) {
    INFO(key << " = " << value);
    CHECK(decode_value(key, value, &out) == std::nullopt);
  }
  return out;
}

}  // namespace

TEST_CASE("a full publication decodes back to its published fields") {
  for (const char* mode : {"selfballoon", "directed", "dry-run"}) {
    INFO(mode);
    GuestStats stats = full_stats();
    stats.mode = mode;
    Encoded encoded = encode(stats);
    CHECK(encoded.truncated.empty());
    GuestStats decoded = decode_all(encoded);
    CHECK(decoded == published_part(stats));
    CHECK(decoded.selfballoon ==
          (std::string_view(mode) == "dry-run"
               ? std::nullopt
               : std::optional<bool>(std::string_view(mode) == "selfballoon")));
  }
  // The names the vocabulary lacks are published (newer dom0s read them), never decoded.
  Encoded encoded = encode(full_stats());
  CHECK(encoded.values.at(std::string(key::kMeminfo)).find("\nSomethingNew 5\n") !=
        std::string::npos);
  CHECK(encoded.values.at(std::string(key::kVmstat)).find("\nnr_free_pages 5\n") !=
        std::string::npos);
  // dom0's figures are not the guest's to publish.
  CHECK(encoded.values.size() == 12);
  CHECK(encoded.values.at(std::string(key::kLayout)) == "1");
}

TEST_CASE("an unknown balloon figure is published empty and decodes as unknown") {
  GuestStats stats = full_stats();
  stats.target_kib.reset();
  stats.floor_kib.reset();
  stats.current_kib.reset();
  stats.psi_some.reset();
  stats.psi_full.reset();
  stats.uptime_seconds.reset();
  stats.idle_seconds.reset();
  Encoded encoded = encode(stats);
  CHECK(encoded.values.at(std::string(key::kTargetKib)).empty());
  CHECK(encoded.values.count(std::string(key::kUptime)) == 0);
  CHECK(encoded.values.count(std::string(key::kPressure)) == 0);
  CHECK(decode_all(encoded) == published_part(stats));
}

TEST_CASE("a meminfo list too long for one value is cut at a whole line and named") {
  GuestStats stats = full_stats();
  for (int i = 0; i < 200; ++i) {
    stats.meminfo_kib.other.emplace_back("NewerKernelField" + std::to_string(i), 1234567890);
  }
  // The whole list, as it would be without the bound: known fields first, then the others.
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < kMeminfoFields.size(); ++i) {
    lines.push_back(std::string(kMeminfoFields[i]) + " " +
                    std::to_string(*stats.meminfo_kib.known[i]) + "\n");
  }
  for (const auto& [name, value] : stats.meminfo_kib.other) {
    lines.push_back(name + " " + std::to_string(value) + "\n");
  }

  Encoded encoded = encode(stats);
  CHECK(encoded.truncated == std::vector<std::string>{"meminfo"});
  const std::string& meminfo = encoded.values.at(std::string(key::kMeminfo));
  REQUIRE_FALSE(meminfo.empty());
  CHECK(meminfo.size() < kMaxValueBytes);
  CHECK(meminfo.back() == '\n');
  std::string kept;
  std::size_t n = 0;
  while (n < lines.size() && kept.size() + lines[n].size() <= meminfo.size()) kept += lines[n++];
  CHECK(kept == meminfo);  // whole lines, in order
  REQUIRE(n < lines.size());
  CHECK(kept.size() + lines[n].size() > kMaxValueBytes);  // the next line would not have fit
  // The cut value still decodes: every known field came before the cut.
  GuestStats decoded;
  CHECK(decode_value(key::kMeminfo, meminfo, &decoded) == std::nullopt);
  CHECK(decoded.meminfo_kib.known == stats.meminfo_kib.known);
}

TEST_CASE("every encoded value stays below the value bound") {
  GuestStats stats = full_stats();
  stats.agent = "xenballoond " + std::string(3000, '9');
  for (auto& v : stats.meminfo_kib.known) v = UINT64_MAX;
  for (auto& v : stats.vmstat.known) v = UINT64_MAX;
  for (int i = 0; i < 300; ++i) {
    stats.meminfo_kib.other.emplace_back("Other" + std::to_string(i), UINT64_MAX);
    stats.vmstat.other.emplace_back("nr_other_" + std::to_string(i), UINT64_MAX);
  }
  stats.uptime_seconds = 1e10;
  stats.idle_seconds = 1e12;
  stats.psi_some = Psi{100, 100, 100, UINT64_MAX};
  stats.psi_full = Psi{100, 100, 100, UINT64_MAX};
  Encoded encoded = encode(stats);
  for (const auto& [key, value] : encoded.values) {
    INFO(key);
    CHECK(value.size() < kMaxValueBytes);
  }
  CHECK(encoded.truncated == std::vector<std::string>{"meminfo", "vmstat"});
}

TEST_CASE("hostile values are refused with their reason and clear the field") {
  const Encoded good = encode(full_stats());
  auto refused = [&](std::string_view key, std::string_view value) {
    GuestStats stats = decode_all(good);
    auto reason = decode_value(key, value, &stats);
    return std::make_pair(reason.value_or("taken"), stats);
  };
  std::string many_lines;
  for (int i = 0; i < 257; ++i) many_lines += "Unknown" + std::to_string(i) + " 1\n";

  auto [r1, s1] = refused(key::kMeminfo, many_lines);
  CHECK(r1 == "too_many_lines");
  CHECK(s1.meminfo_kib.empty());
  auto [r2, s2] = refused(key::kMeminfo, "MemTotal lots\n");
  CHECK(r2 == "malformed");
  CHECK(s2.meminfo_kib.empty());
  auto [r3, s3] = refused(key::kMeminfo, "MemTotal 17592186044417\n");  // 2^44 KiB + 1
  CHECK(r3 == "out_of_range");
  CHECK(s3.meminfo_kib.empty());
  auto [r4, s4] = refused(key::kVmstat, "pswpin 1\npswpin 2\n");
  CHECK(r4 == "duplicate");
  CHECK(s4.vmstat.empty());
  auto [r5, s5] = refused(key::kMode, "rootkit");
  CHECK(r5 == "unknown_value");
  CHECK_FALSE(s5.mode);
  CHECK_FALSE(s5.selfballoon);
  auto [r6, s6] = refused(key::kPolicy, "greedy");
  CHECK(r6 == "unknown_value");
  CHECK_FALSE(s6.policy);
  auto [r7, s7] = refused(key::kTargetKib, "-1");
  CHECK(r7 == "malformed");
  CHECK_FALSE(s7.target_kib);
  auto [r8, s8] = refused(key::kHeartbeat, "nan");
  CHECK(r8 == "malformed");
  CHECK_FALSE(s8.heartbeat_unix_seconds);
  auto [r9, s9] = refused(key::kAgent, "xenballoond\n\x1b[31m");
  CHECK(r9 == "malformed");
  CHECK_FALSE(s9.agent);
  auto [r10, s10] = refused(key::kUptime, "-1 5");
  CHECK(r10 == "malformed");
  CHECK_FALSE(s10.uptime_seconds);
  CHECK_FALSE(s10.idle_seconds);
  auto [r11, s11] = refused(key::kPressure, "some avg10=101.00 avg60=0.00 avg300=0.00 total=1\n");
  CHECK(r11 == "out_of_range");
  CHECK_FALSE(s11.psi_some);
  CHECK_FALSE(s11.psi_full);
  auto [r12, s12] = refused(key::kLayout, "");
  CHECK(r12 == "malformed");
  CHECK_FALSE(s12.layout);
  // A key the layout lacks is refused and changes nothing.
  auto [r13, s13] = refused("junk", "1");
  CHECK(r13 == "unknown_key");
  CHECK(s13 == decode_all(good));
  // Oversized values are refused before they are read.
  GuestStats stats = decode_all(good);
  CHECK(decode_value(key::kMeminfo, std::string(5000, 'x'), &stats) == "too_large");
  CHECK(decode_value("junk", std::string(5000, 'x'), &stats) == "too_large");
}

// An oversized value must not leave the previous one looking current (layout.h: a refusal
// "clears what `out` held for that key"); the decoder once returned too_large before clearing.
TEST_CASE("an oversized value clears the field it was written to") {
  GuestStats stats = decode_all(encode(full_stats()));
  CHECK(decode_value(key::kMeminfo, std::string(5000, 'x'), &stats) == "too_large");
  CHECK(stats.meminfo_kib.empty());
  CHECK(decode_value(key::kPolicy, std::string(5000, 'x'), &stats) == "too_large");
  CHECK_FALSE(stats.policy);
}
