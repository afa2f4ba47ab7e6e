// Setting a target only on the domain, and from the target, a step planned for: domain ids are
// reused, and a target may change under a step (xl mem-set, a xenstored restart), so right before
// the write the domain's `vm` and `memory/target` are read again and compared with what the step
// saw; a plan made from other figures is not applied (the next step plans afresh).
// Not thread-safe (the client and setter belong to the calling thread).
#pragma once

#include <cstdint>
#include <string>

#include "xenballoon/dom0/target_setter.h"
#include "xenballoon/result.h"
#include "xenballoon/xenstore/client.h"

namespace xenballoon::balancer {

// What the step saw of the domain. Plain value.
struct PlannedFrom {
  std::string uuid;
  std::uint64_t target_kib = 0;
};

// Sets `domid`'s target through `setter` when its uuid and memory/target are still `planned`'s.
// Errors: a key cannot be read (errnum from xenstore: ENOENT for a domain that is gone), the
// domain is another one now or its target moved (errnum ESTALE; nothing is written), or the
// setter's own (EINVAL above static-max).
Result<void> set_target_if_unchanged(xenstore::Client& client, dom0::TargetSetter& setter,
                                     std::uint32_t domid, const PlannedFrom& planned,
                                     std::uint64_t target_kib);

}  // namespace xenballoon::balancer
