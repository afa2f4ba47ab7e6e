#include "guarded_target.h"

#include <cerrno>

#include "xenballoon/dom0/label_text.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::balancer {

Result<void> set_target_if_same_domain(xenstore::Client& client, dom0::TargetSetter& setter,
                                       std::uint32_t domid, const std::string& expected_uuid,
                                       std::uint64_t target_kib) {
  const std::string vm_path = xenstore::keys::domain_path(domid, xenstore::keys::kVm);
  auto vm = client.read(vm_path);
  if (!vm) {
    return Error{"cannot re-read its uuid (" + vm.error().message + ")", vm.error().errnum};
  }
  const std::string now_uuid = dom0::uuid_from_vm_path(*vm);
  if (expected_uuid.empty() || now_uuid != expected_uuid) {
    return Error{"domid " + std::to_string(domid) + " is now another domain (uuid " +
                     (now_uuid.empty() ? std::string("none") : now_uuid) + ", planned for " +
                     (expected_uuid.empty() ? std::string("none") : expected_uuid) +
                     "): not written",
                 ESTALE};
  }
  return setter.set_target_kib(domid, target_kib);
}

}  // namespace xenballoon::balancer
