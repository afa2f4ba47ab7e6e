// Parser for /proc/meminfo. Pure: text in, value out; reading files is ProcfsReader's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/result.h"

namespace xenballoon {

// One /proc/meminfo line. Plain value type; not synchronized.
struct MeminfoField {
  std::string name;
  std::uint64_t value = 0;  // bytes when has_kb_unit, else the count as written (HugePages_Total)
  bool has_kb_unit = false;
};

// Every /proc/meminfo field in file order. Plain value type: concurrent const use is safe.
struct Meminfo {
  std::vector<MeminfoField> fields;

  // Bytes for kB fields, the plain count for unitless ones; nullopt when the kernel did not report
  // it.
  std::optional<std::uint64_t> get(std::string_view name) const;
  // The field itself (to see has_kb_unit), or nullptr.
  const MeminfoField* find(std::string_view name) const;
};

// Parses /proc/meminfo text; `source` names the file in errors ("/proc/meminfo:12: ...").
// Accepts `Name: value [kB]` lines, CRLF and surrounding blanks. Rejects any other line, a
// non-number, a value whose bytes overflow 64 bits, a duplicate name, an empty text and a last
// line without a newline (a cut-short copy). Missing fields are not an error here.
Result<Meminfo> parse_meminfo(std::string_view text, std::string_view source);

// What ballooning needs from meminfo: MemTotal > 0 and Committed_AS present, both in kB.
Result<void> check_plausible_for_ballooning(const Meminfo& meminfo, std::string_view source);

}  // namespace xenballoon
