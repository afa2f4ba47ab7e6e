// Line-by-line reading of kernel text files (/proc, the legacy balloon file), shared by their
// parsers. Private to the library.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "xenballoon/result.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::detail {

inline constexpr std::size_t kMaxQuotedChars = 48;

// Untrusted text, quoted and cut for an error message.
inline std::string quoted(std::string_view text) {
  return quote_untrusted(text, kMaxQuotedChars);
}

// "<source>:<line>: <what>"
inline Error line_error(std::string_view source, std::size_t line_number, const std::string& what) {
  return Error{std::string(source) + ":" + std::to_string(line_number) + ": " + what};
}

// Calls on_line(line_number, trimmed_line) for every non-blank line; stops at its first error.
// The kernel ends these files with a newline; text without one was cut short, and its last number
// may be a prefix of the real one, so that is an error rather than a silently wrong value. Empty
// text is an error too.
template <typename OnLine>
Result<void> for_each_line(std::string_view text, std::string_view source, OnLine&& on_line) {
  if (trim(text).empty()) return Error{std::string(source) + ": file is empty"};
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      return line_error(source, line_number,
                        "line " + quoted(text.substr(pos)) + " is cut short (no newline at end)");
    }
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    if (Result<void> handled = on_line(line_number, line); !handled) return handled;
  }
  return {};
}

}  // namespace xenballoon::detail
