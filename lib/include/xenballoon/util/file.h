// Small file helpers with value-or-error returns. Thread-safe (no shared state).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

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

// How a procfs file is made, which decides how a read finds its end there (other files give all
// they have in one read). The kernel's seq_file makes a one-record file (meminfo, uptime,
// pressure/*: one show() call) whole, growing its buffer until it fits, so a read shorter than
// asked for ends it; a many-record file (vmstat) comes a buffer page at a time, so only a read
// that returns nothing ends it.
enum class ProcfsRecords { kMany, kOne };

// A file that is read again and again, as /proc and sysfs files are. A kernel pseudo-file (procfs,
// sysfs) stays open and is re-read from offset 0, which costs one or two pread() calls instead of
// open, read and close. Any other file is re-opened when its path names another file than the one
// held open, because test and simulator trees replace their files by rename. A failed read closes
// the file, so the next read starts afresh. Not thread-safe: one per thread.
class RereadableFile {
 public:
  explicit RereadableFile(std::string path, ProcfsRecords records = ProcfsRecords::kMany,
                          std::size_t max_bytes = kMaxReadBytes);
  ~RereadableFile();
  RereadableFile(RereadableFile&& other) noexcept;
  RereadableFile& operator=(RereadableFile&& other) noexcept;
  RereadableFile(const RereadableFile&) = delete;
  RereadableFile& operator=(const RereadableFile&) = delete;

  // The whole content as it is now; the view is valid until the next read() or destruction.
  // Errors name the path and carry the errno (ENOENT when it is gone, EFBIG past max_bytes).
  Result<std::string_view> read();

  const std::string& path() const { return path_; }

 private:
  Result<void> open_if_needed();
  void close_file();

  std::string path_;
  ProcfsRecords records_;
  std::size_t max_bytes_;
  int fd_ = -1;
  bool kernel_file_ = false;  // procfs or sysfs: content is made on every read, never replaced
  bool seq_chunks_ = false;   // many-record procfs file: only an empty read ends it
  dev_t device_ = 0;
  ino_t inode_ = 0;
  std::string buffer_;
};

}  // namespace xenballoon
