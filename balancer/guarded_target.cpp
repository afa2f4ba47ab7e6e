#include "guarded_target.h"

#include <cerrno>

#include "xenballoon/dom0/label_text.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::balancer {

namespace keys = xenstore::keys;

Result<void> set_target_if_unchanged(xenstore::Client& client, dom0::TargetSetter& setter,
                                     std::uint32_t domid, const PlannedFrom& planned,
                                     std::uint64_t target_kib) {
  auto vm = client.read(keys::domain_path(domid, keys::kVm));
  if (!vm) {
    return Error{"cannot re-read its uuid (" + vm.error().message + ")", vm.error().errnum};
  }
  const std::string uuid = dom0::uuid_from_vm_path(*vm);
  if (planned.uuid.empty() || uuid != planned.uuid) {
    return Error{"domid " + std::to_string(domid) + " is now another domain (uuid " +
                     (uuid.empty() ? std::string("none") : uuid) + ", planned for " +
                     (planned.uuid.empty() ? std::string("none") : planned.uuid) + "): not written",
                 ESTALE};
  }
  const std::string target_path = keys::domain_path(domid, keys::kTarget);
  auto target_text = client.read(target_path);
  if (!target_text) {
    return Error{"cannot re-read its target (" + target_text.error().message + ")",
                 target_text.error().errnum};
  }
  const auto target_now = parse_u64(trim(*target_text));
  if (!target_now || *target_now != planned.target_kib) {
    return Error{
        target_path + " is " +
            (target_now ? std::to_string(*target_now) + " KiB" : quote_untrusted(*target_text)) +
            " now, the step planned from " + std::to_string(planned.target_kib) +
            " KiB: not written (the next step plans afresh)",
        ESTALE};
  }
  return setter.set_target_kib(domid, target_kib);
}

}  // namespace xenballoon::balancer
