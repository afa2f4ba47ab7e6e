// Host memory (total and free) from the hypervisor, behind an interface so that tests can fake
// it. The real source opens libxenctrl at run time: without the library or a hypervisor (as in
// a container or on a test machine) there is no source and the host families are absent. A
// simulated host (or a test) without a hypervisor describes its memory in a small file instead
// (FileHostMemory).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "xenballoon/result.h"

namespace xenballoon::dom0 {

// Plain value; not synchronized.
struct HostMemory {
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;
};

// Implementations are thread-safe: scrapes run on several threads.
class HostMemorySource {
 public:
  virtual ~HostMemorySource() = default;
  // nullopt when the hypervisor does not answer this time.
  virtual std::optional<HostMemory> read() = 0;
};

// xc_physinfo() through libxenctrl.so.4.17 opened with dlopen(). Returns nullptr and says why
// when the library, its symbols or the hypervisor interface are missing.
std::unique_ptr<HostMemorySource> open_xenctrl_host_memory(std::string* why_not);

// A source whose answer the test sets. Thread-safe.
class FakeHostMemory : public HostMemorySource {
 public:
  explicit FakeHostMemory(std::optional<HostMemory> value = std::nullopt) : value_(value) {}
  void set(std::optional<HostMemory> value) {
    std::lock_guard lock(mutex_);
    value_ = value;
  }
  std::optional<HostMemory> read() override {
    std::lock_guard lock(mutex_);
    return value_;
  }

 private:
  std::mutex mutex_;
  std::optional<HostMemory> value_;
};

// The host memory file, for a host without a hypervisor to ask (the simulated host writes it,
// replacing it by rename). Sizes in KiB, decimal, in one of two forms:
//
//   4194304 1048576            one line: total_kib free_kib
//
//   total_kib 4194304          or one key per line, in any order, separated from its value by
//   free_kib 1048576           spaces, '=' or ':'
//
// Blank lines and lines starting with '#' are ignored; anything else (a third number, an unknown
// or repeated key, free above total, a total of 0, a size past 2^50 KiB) is an error naming
// `source_name`:line. Pure; thread-safe.
Result<HostMemory> parse_host_memory_text(std::string_view text, std::string_view source_name);

// Largest size either figure may have, in KiB (1 EiB: far beyond any host, far below overflow).
inline constexpr std::uint64_t kMaxHostMemoryKib = std::uint64_t{1} << 50;

// Reads the host memory file again on every read(). Thread-safe (no state besides the path).
class FileHostMemory : public HostMemorySource {
 public:
  explicit FileHostMemory(std::string path) : path_(std::move(path)) {}
  // nullopt when the file is missing or malformed (read_checked() says why).
  std::optional<HostMemory> read() override;
  // The file as it is now, or why it cannot be used (the error names the path).
  Result<HostMemory> read_checked() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace xenballoon::dom0
