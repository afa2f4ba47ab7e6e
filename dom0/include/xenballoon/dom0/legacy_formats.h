// The formats of guests that do not run xenballoond: the 2008 daemon's memory/meminfo (raw
// /proc/meminfo text) and XenServer guest tools' data/meminfo_total and data/meminfo_free (KiB).
// The other 2008 keys share the layout's formats and go through publish::decode_value.
// Parsing only. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xenballoon::dom0 {

// "MemTotal:   204924 kB" lines -> the layout's "MemTotal 204924" lines, for decode_value.
// Returns the refusal reason ("too_large", "malformed") or nullopt.
std::optional<std::string> legacy_meminfo_to_layout(std::string_view proc_text, std::string* out);

// A KiB count as XenServer's tools write it (decimal, surrounding blanks allowed). Returns the
// refusal reason or nullopt; `out` is cleared on refusal.
std::optional<std::string> decode_kib_value(std::string_view text,
                                            std::optional<std::uint64_t>* out);

// The largest KiB figure taken from a guest or dom0 (16 PiB), as the layout decoder bounds it.
inline constexpr std::uint64_t kMaxKib = std::uint64_t{1} << 44;

}  // namespace xenballoon::dom0
