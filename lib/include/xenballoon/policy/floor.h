// The lowest balloon target any policy may choose (docs/policies.md, "The floor"). Thread-safe.
#pragma once

#include <cstdint>

namespace xenballoon {

// The Xen balloon driver's minimum_target() in MiB for a guest whose maximum is `maxmem_kib`:
// with pages = maxmem_kib / 4 and bands by maxmem_kib / 1024 (MiB),
//   < 125 MiB: 8 + pages/512, < 500: 40 + pages/1024, < 2000: 104 + pages/2048,
//   else 296 + pages/8192.
std::uint64_t balloon_minimum_target_mib(std::uint64_t maxmem_kib);

// The floor in MiB: `minmem_mib` when non-zero, else balloon_minimum_target_mib(static_max_kib).
std::uint64_t floor_mib(std::uint64_t minmem_mib, std::uint64_t static_max_kib);

}  // namespace xenballoon
