// Text from xenstore made safe to show: Prometheus label values, JSON strings and terminal cells.
// Domain names are written by dom0 but readable (and on some toolstacks settable) by the guest, so
// every byte is treated as hostile. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xenballoon::dom0 {

// Longest label value the exporter emits, in bytes.
inline constexpr std::size_t kMaxLabelBytes = 128;

// Valid UTF-8 of at most `max_bytes` bytes: invalid or overlong sequences, surrogates and NUL
// become U+FFFD; the text is cut at a character boundary.
std::string to_valid_utf8(std::string_view raw, std::size_t max_bytes = kMaxLabelBytes);

// Appends a valid-UTF-8 label value escaped for the text exposition (\\, \" and \n).
void append_label_value(std::string& out, std::string_view value);

// Appends a valid-UTF-8 string as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view value);

// "/vm/<uuid>" (what libxl writes as `vm`) -> "<uuid>" in lower case when it is a canonical UUID;
// "" otherwise.
std::string uuid_from_vm_path(std::string_view vm_path);

// For a terminal cell: control characters become '?', at most `max_chars` characters (a cut
// name ends in '~'). Input must be valid UTF-8.
std::string printable_cell(std::string_view utf8, std::size_t max_chars);

// Characters (code points) in valid UTF-8 text.
std::size_t count_chars(std::string_view utf8);

}  // namespace xenballoon::dom0
