#include "xenballoon/dom0/target_setter.h"

#include <cerrno>
#include <string>

#include "xenballoon/util/parse.h"
#include "xenballoon/xenstore/client.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::dom0 {

namespace keys = xenstore::keys;

Result<void> XenstoreTargetSetter::set_target_kib(std::uint32_t domid, std::uint64_t target_kib) {
  if (target_kib == 0) return Error{"a target of 0 would take all of the domain's memory", EINVAL};
  const std::string static_max_path = keys::domain_path(domid, keys::kStaticMax);
  return client_.transact([&](xenstore::Transaction& transaction) -> Result<void> {
    auto static_max_text = transaction.read(static_max_path);
    if (!static_max_text) return static_max_text.error();
    auto static_max = parse_u64(trim(*static_max_text));
    if (!static_max) return Error{static_max_path + " is not a KiB count"};
    if (target_kib > *static_max) {
      return Error{"memory_dynamic_max must be less than or equal to memory_static_max (" +
                       std::to_string(*static_max / 1024) + " MiB)",
                   EINVAL};
    }
    return transaction.write(keys::domain_path(domid, keys::kTarget), std::to_string(target_kib));
  });
}

}  // namespace xenballoon::dom0
