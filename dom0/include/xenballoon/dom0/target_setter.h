// How a dom0 program sets a guest's balloon target, as `xl mem-set` does: refused above the
// guest's memory/static-max. The xenstore setter writes memory/target (what the simulated host's
// toolstack follows into max_pages); on real Xen that alone does not let a guest grow past its
// old target, so the balancer sets targets through libxl there (libxl_set_memory_target).
// Not thread-safe: one thread uses a setter.
#pragma once

#include <cstdint>

#include "xenballoon/result.h"

namespace xenballoon::xenstore {
class Client;
}

namespace xenballoon::dom0 {

// Not thread-safe.
class TargetSetter {
 public:
  virtual ~TargetSetter() = default;
  // Sets `domid`'s target in KiB. Errors name the domain and say why (EINVAL above static-max
  // or for 0, ENOENT for a domain that is gone).
  virtual Result<void> set_target_kib(std::uint32_t domid, std::uint64_t target_kib) = 0;
};

// memory/target written in one transaction that reads memory/static-max. Not thread-safe; the
// client must outlive the setter.
class XenstoreTargetSetter : public TargetSetter {
 public:
  explicit XenstoreTargetSetter(xenstore::Client& client) : client_(client) {}
  Result<void> set_target_kib(std::uint32_t domid, std::uint64_t target_kib) override;

 private:
  xenstore::Client& client_;
};

}  // namespace xenballoon::dom0
