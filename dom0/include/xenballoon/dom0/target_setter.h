// How a dom0 program sets a guest's balloon target, as `xl mem-set` does: refused above the
// guest's memory/static-max. The xenstore setter writes memory/target (what the simulated host's
// toolstack follows into max_pages); on real Xen that alone does not let a guest grow past its
// old target, so the balancer sets targets through libxl there (libxl_set_memory_target).
// Not thread-safe: one thread uses a setter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

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

// libxl_set_memory_target(ctx, domid, target_kib, relative 0, enforce 1), as `xl mem-set` does:
// memory/target and the domain's max_pages (target + 1 MiB) in one call, so that a guest can grow
// into a raised target on real Xen. libxenlight (and libxentoollog) are opened with dlopen() when
// the setter is opened: a program using it starts on hosts without Xen libraries. libxl refuses a
// target above memory/static-max itself (in its xenstore transaction); errors name the domid and
// libxl's return code with the last message libxl logged. Not thread-safe.
class LibxlTargetSetter : public TargetSetter {
 public:
  struct Library;  // the opened libraries and the libxl context
  explicit LibxlTargetSetter(std::unique_ptr<Library> library);
  ~LibxlTargetSetter() override;
  LibxlTargetSetter(const LibxlTargetSetter&) = delete;
  LibxlTargetSetter& operator=(const LibxlTargetSetter&) = delete;
  Result<void> set_target_kib(std::uint32_t domid, std::uint64_t target_kib) override;

 private:
  std::unique_ptr<Library> library_;
};

// Opens libxenlight and a libxl context. nullptr, with the reason in *why_not (when given), when
// the library is missing or lacks a function, or libxl_ctx_alloc fails (no hypervisor: no
// /dev/xen/privcmd, or xenstore not reachable).
std::unique_ptr<LibxlTargetSetter> open_libxl_target_setter(std::string* why_not);

}  // namespace xenballoon::dom0
