// Small file helpers with value-or-error returns. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <string>

#include "xenballoon/result.h"

namespace xenballoon {

// Default cap for files read whole: /proc and sysfs files are small; a larger file is an error, not
// an OOM.
inline constexpr std::size_t kMaxReadBytes = 1 << 20;

// Reads a whole file. Errors name the path and the errno text.
Result<std::string> read_file(const std::string& path, std::size_t max_bytes = kMaxReadBytes);

// Writes `data` to an existing file (sysfs style: open, write, close). Errors name the path.
Result<void> write_file(const std::string& path, const std::string& data);

// Writes a file atomically (temp file in the same directory + rename).
Result<void> write_file_atomic(const std::string& path, const std::string& data);

}  // namespace xenballoon
