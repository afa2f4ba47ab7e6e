// Page and size units of the simulation: the model counts 4 KiB pages, the files show KiB.
#pragma once

#include <cstdint>

namespace xenballoon::sim {

inline constexpr std::uint64_t kKibPerPage = 4;
inline constexpr std::uint64_t kPagesPerMib = 256;
inline constexpr std::uint64_t kKibPerMib = 1024;
inline constexpr std::uint64_t kNsPerSecond = 1'000'000'000;

constexpr std::uint64_t pages_from_mib(std::uint64_t mib) {
  return mib * kPagesPerMib;
}
constexpr std::uint64_t kib_from_pages(std::uint64_t pages) {
  return pages * kKibPerPage;
}
constexpr std::uint64_t pages_from_kib(std::uint64_t kib) {
  return kib / kKibPerPage;
}

}  // namespace xenballoon::sim
