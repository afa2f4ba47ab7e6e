// The machine's memory that Xen can give to guests.
#pragma once

#include <cstdint>

namespace xenballoon::sim {

// Memory left for guests after Xen and dom0, in pages. Pages are handed out and given back;
// free + allocated == total at all times. A plain value; not thread-safe.
class Host {
 public:
  explicit Host(std::uint64_t total_pages) : total_pages_(total_pages) {}

  std::uint64_t total_pages() const { return total_pages_; }
  std::uint64_t free_pages() const { return total_pages_ - allocated_pages_; }
  std::uint64_t allocated_pages() const { return allocated_pages_; }

  // Grants min(pages, free) and returns the number granted (XENMEM_populate_physmap may return
  // fewer pages than asked for).
  std::uint64_t allocate_up_to(std::uint64_t pages);
  // Takes back pages a guest gave up; more than is allocated is a bug and aborts.
  void release(std::uint64_t pages);

 private:
  std::uint64_t total_pages_ = 0;
  std::uint64_t allocated_pages_ = 0;
};

}  // namespace xenballoon::sim
