#include "xenballoon/sim/host.h"

#include <algorithm>
#include <cstdlib>

namespace xenballoon::sim {

std::uint64_t Host::allocate_up_to(std::uint64_t pages) {
  const std::uint64_t granted = std::min(pages, free_pages());
  allocated_pages_ += granted;
  return granted;
}

void Host::release(std::uint64_t pages) {
  if (pages > allocated_pages_) std::abort();
  allocated_pages_ -= pages;
}

}  // namespace xenballoon::sim
