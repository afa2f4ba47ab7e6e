// Parser for /proc/vmstat. Pure: text in, value out; reading files is ProcfsReader's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/result.h"

namespace xenballoon {

// One /proc/vmstat counter. Plain value type; not synchronized.
struct VmstatCounter {
  std::string name;
  std::uint64_t value = 0;  // unitless: pages or event counts, as the kernel names them
};

// Every /proc/vmstat counter in file order. Plain value type: concurrent const use is safe.
struct Vmstat {
  std::vector<VmstatCounter> counters;

  std::optional<std::uint64_t> get(std::string_view name) const;
};

// Parses /proc/vmstat text (`name value` per line); `source` names the file in errors. Rejects any
// other line, a non-number or overflowing value, a duplicate name, an empty text and a last line
// without a newline.
// With `keep`, only those counters are stored and checked for duplicates: a repeated counter the
// caller does not use cannot give it a wrong value (every line's syntax is still checked).
Result<Vmstat> parse_vmstat(std::string_view text, std::string_view source,
                            const std::vector<std::string>* keep = nullptr);

}  // namespace xenballoon
