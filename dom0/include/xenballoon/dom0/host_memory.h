// Host memory (total and free) from the hypervisor, behind an interface so that tests can fake
// it. The real source opens libxenctrl at run time: without the library or a hypervisor (as in
// a container or on a test machine) there is no source and the host families are absent.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

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

}  // namespace xenballoon::dom0
