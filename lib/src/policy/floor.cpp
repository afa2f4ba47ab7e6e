#include "xenballoon/policy/floor.h"

namespace xenballoon {

std::uint64_t balloon_minimum_target_mib(std::uint64_t maxmem_kib) {
  const std::uint64_t maxmem_mib = maxmem_kib / 1024;
  const std::uint64_t pages = maxmem_kib / 4;
  // The bands sit a little below 128/512/2048 MiB: a guest given "memory=512" sees slightly less.
  if (maxmem_mib < 125) return 8 + (pages >> 9);
  if (maxmem_mib < 500) return 40 + (pages >> 10);
  if (maxmem_mib < 2000) return 104 + (pages >> 11);
  return 296 + (pages >> 13);
}

std::uint64_t floor_mib(std::uint64_t minmem_mib, std::uint64_t static_max_kib) {
  return minmem_mib != 0 ? minmem_mib : balloon_minimum_target_mib(static_max_kib);
}

}  // namespace xenballoon
