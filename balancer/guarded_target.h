// Setting a target only on the domain it was planned for: domain ids are reused, so right before
// the write the domain's `vm` is read again and its uuid compared with the one the step saw.
// Not thread-safe (the client and setter belong to the calling thread).
#pragma once

#include <cstdint>
#include <string>

#include "xenballoon/dom0/target_setter.h"
#include "xenballoon/result.h"
#include "xenballoon/xenstore/client.h"

namespace xenballoon::balancer {

// Sets `domid`'s target through `setter` when its uuid is still `expected_uuid`. Errors: the
// uuid cannot be read (errnum from xenstore: ENOENT for a domain that is gone), it is another
// domain's now (errnum ESTALE; nothing is written), or the setter's own.
Result<void> set_target_if_same_domain(xenstore::Client& client, dom0::TargetSetter& setter,
                                       std::uint32_t domid, const std::string& expected_uuid,
                                       std::uint64_t target_kib);

}  // namespace xenballoon::balancer
