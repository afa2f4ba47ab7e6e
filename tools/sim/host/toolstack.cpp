#include "toolstack.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>

#include "xenballoon/dom0/target_setter.h"
#include "xenballoon/publish/layout.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/xenstore/keys.h"

extern "C" {
#include <xenstore.h>
}

namespace xenballoon::sim::host {

namespace keys = xenstore::keys;
namespace {

constexpr std::uint32_t kDom0 = 0;
constexpr std::string_view kTargetWatchTokenPrefix = "xenballoon-sim:target:";

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

Result<std::uint64_t> read_kib(xenstore::Client& client, const std::string& path) {
  auto text = client.read(path);
  if (!text) return text.error();
  auto number = parse_u64(trim(*text));
  if (!number) return Error{path + " is not a KiB count: \"" + *text + "\""};
  return *number;
}

}  // namespace

std::string domain_uuid(const std::string& scenario_name, const std::string& domain_name) {
  const std::string key = "xenballoon-sim/" + scenario_name + "/" + domain_name;
  std::uint64_t high = fnv1a(key, 0xcbf29ce484222325ULL);
  std::uint64_t low = fnv1a(key, high ^ 0x9e3779b97f4a7c15ULL);
  high = (high & ~0xF000ULL) | 0x4000ULL;                       // version 4 (random-looking)
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xFFFF), static_cast<unsigned>(high & 0xFFFF),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
  return text;
}

std::optional<std::uint64_t> parse_xl_memory_kib(const std::string& text) {
  std::string_view digits = text;
  char unit = 'm';
  if (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) {
    unit = static_cast<char>(std::tolower(static_cast<unsigned char>(digits.back())));
    digits.remove_suffix(1);
  }
  auto number = parse_u64(digits);
  if (!number) return std::nullopt;
  int shift_up = 0;
  switch (unit) {
    case 't':
      shift_up = 30;
      break;
    case 'g':
      shift_up = 20;
      break;
    case 'm':
      shift_up = 10;
      break;
    case 'k':
      shift_up = 0;
      break;
    case 'b':
      return *number >> 10;
    default:
      return std::nullopt;
  }
  if (*number > (UINT64_MAX >> shift_up)) return std::nullopt;
  return *number << shift_up;
}

Result<std::unique_ptr<Toolstack>> Toolstack::connect(const std::string& dom0_socket) {
  auto client = xenstore::Client::open(dom0_socket);
  if (!client) return client.error();
  return std::unique_ptr<Toolstack>(new Toolstack(std::move(*client)));
}

Result<void> Toolstack::set_permissions(const std::string& path, std::uint32_t owner,
                                        std::optional<std::uint32_t> reader) {
  xs_permissions permissions[2] = {{owner, XS_PERM_NONE}, {reader.value_or(0), XS_PERM_READ}};
  errno = 0;
  if (!xs_set_permissions(client_->native(), XBT_NULL, path.c_str(), permissions, reader ? 2 : 1)) {
    const int error = errno ? errno : EIO;
    return Error{"xenstore set_perms " + path + ": " + xenstore::errno_name(error), error};
  }
  return {};
}

Result<void> Toolstack::create_dom0() {
  const std::string home = keys::domain_home(kDom0);
  auto at = [&](std::string_view relative) { return home + "/" + std::string(relative); };
  if (auto r = client_->write(at(keys::kName), "Domain-0"); !r) return r;
  if (auto r = client_->write(at(keys::kDomid), "0"); !r) return r;
  return {};
}

Result<void> Toolstack::create_domain(const DomainSpec& domain) {
  const std::string home = keys::domain_home(domain.domid);
  auto at = [&](std::string_view relative) { return home + "/" + std::string(relative); };
  const std::string vm = "/vm/" + domain.uuid;
  const std::uint32_t guest = domain.domid;
  // Written by dom0 and readable by the guest ("n0,r<domid>" in xenstore-ls -p).
  const std::vector<std::pair<std::string, std::string>> dom0_nodes = {
      {at(keys::kVm), vm},
      {at(keys::kName), domain.name},
      {at(keys::kDomid), std::to_string(guest)},
      {at(keys::kStaticMax), std::to_string(domain.static_max_kib)},
      {at(keys::kTarget), std::to_string(domain.target_kib)},
      {at(keys::kVideoRam), "0"},
      {vm + "/name", domain.name},
      {vm + "/uuid", domain.uuid},
  };
  if (auto r = client_->mkdir(home); !r) return r;
  if (auto r = set_permissions(home, kDom0, guest); !r) return r;
  if (auto r = client_->mkdir(vm); !r) return r;
  if (auto r = set_permissions(vm, kDom0, guest); !r) return r;
  if (auto r = client_->mkdir(at(keys::kMemoryDir)); !r) return r;
  if (auto r = set_permissions(at(keys::kMemoryDir), kDom0, guest); !r) return r;
  if (auto r = client_->mkdir(at(keys::kControlDir)); !r) return r;
  if (auto r = set_permissions(at(keys::kControlDir), kDom0, guest); !r) return r;
  for (const auto& [path, value] : dom0_nodes) {
    if (auto r = client_->write(path, value); !r) return r;
    if (auto r = set_permissions(path, kDom0, guest); !r) return r;
  }
  // Directories the guest owns and may create nodes under ("n<domid>"); data/ is where
  // xenballoond publishes.
  for (const char* owned : {"/data", "/drivers", "/feature", "/attr", "/error"}) {
    if (auto r = client_->mkdir(home + owned); !r) return r;
    if (auto r = set_permissions(home + owned, guest, std::nullopt); !r) return r;
  }
  errno = 0;
  // The simulated guest has no store ring; xenstored-lite serves it a socket instead, so the
  // frame number and event channel are placeholders.
  if (!xs_introduce_domain(client_->native(), guest, /*mfn=*/1, /*eventchn=*/1)) {
    const int error = errno ? errno : EIO;
    return Error{
        "xenstore introduce domain " + std::to_string(guest) + ": " + xenstore::errno_name(error),
        error};
  }
  return {};
}

Result<void> Toolstack::watch_dom0_target(std::uint32_t domid) {
  awaiting_registration_event_[domid] = true;
  return client_->watch(keys::domain_path(domid, keys::kTarget),
                        std::string(kTargetWatchTokenPrefix) + std::to_string(domid));
}

int Toolstack::watch_fd() {
  return client_->watch_fd();
}

std::vector<Dom0TargetWrite> Toolstack::take_dom0_target_writes() {
  std::vector<Dom0TargetWrite> writes;
  while (auto event = client_->next_event()) {
    if (event->token.rfind(kTargetWatchTokenPrefix, 0) != 0) continue;
    auto domid = parse_u64(std::string_view(event->token).substr(kTargetWatchTokenPrefix.size()));
    if (!domid) continue;
    Dom0TargetWrite write;
    write.domid = static_cast<std::uint32_t>(*domid);
    auto awaiting = awaiting_registration_event_.find(write.domid);
    if (awaiting != awaiting_registration_event_.end() && awaiting->second) {
      write.registration_event = true;
      awaiting->second = false;
    }
    // A removal (the domain going away) fires the watch too; there is nothing to follow then.
    auto target = read_kib(*client_, keys::domain_path(write.domid, keys::kTarget));
    if (!target) continue;
    write.target_kib = *target;
    writes.push_back(write);
  }
  return writes;
}

Result<std::vector<std::uint32_t>> Toolstack::guest_domids() {
  auto names = client_->list(std::string(keys::kDomainsRoot));
  if (!names) return names.error();
  std::vector<std::uint32_t> domids;
  for (const std::string& name : *names) {
    auto domid = parse_u64(name);
    if (domid && *domid != kDom0 && *domid < keys::kFirstReservedDomid)
      domids.push_back(static_cast<std::uint32_t>(*domid));
  }
  std::sort(domids.begin(), domids.end());
  return domids;
}

Result<std::uint32_t> Toolstack::resolve_domain(const std::string& name_or_domid) {
  auto domids = guest_domids();
  if (!domids) return domids.error();
  if (auto number = parse_u64(name_or_domid)) {
    if (*number == kDom0) {
      return Error{"Domain-0 is not simulated; give a guest's name or domid"};
    }
    if (std::find(domids->begin(), domids->end(), *number) != domids->end()) {
      return static_cast<std::uint32_t>(*number);
    }
  } else {
    if (name_or_domid == "Domain-0") {
      return Error{"Domain-0 is not simulated; give a guest's name or domid"};
    }
    for (std::uint32_t domid : *domids) {
      auto name = client_->read(keys::domain_path(domid, keys::kName));
      if (name && *name == name_or_domid) return domid;
    }
  }
  return Error{"no guest domain named or numbered \"" + name_or_domid + "\"", ENOENT};
}

Result<DomainSummary> Toolstack::summary(std::uint32_t domid) {
  const std::string home = keys::domain_home(domid);
  auto at = [&](std::string_view relative) { return home + "/" + std::string(relative); };
  DomainSummary summary;
  summary.domid = domid;
  auto name = client_->read(at(keys::kName));
  if (!name) return name.error();
  summary.name = *name;
  if (auto target = read_kib(*client_, at(keys::kTarget))) summary.target_kib = *target;
  if (auto static_max = read_kib(*client_, at(keys::kStaticMax))) {
    summary.static_max_kib = *static_max;
  }
  // What the agent published, through the layout's own decoder (guest data is untrusted).
  publish::GuestStats published;
  for (std::string_view key : {publish::key::kMode, publish::key::kTargetKib}) {
    auto value = client_->read(at(publish::kDir) + "/" + std::string(key));
    if (value) (void)publish::decode_value(key, *value, &published);
  }
  summary.agent_mode = published.mode.value_or("");
  summary.agent_target_kib = published.target_kib;
  return summary;
}

Result<void> Toolstack::set_dom0_target(std::uint32_t domid, std::uint64_t target_kib) {
  return dom0::XenstoreTargetSetter(*client_).set_target_kib(domid, target_kib);
}

}  // namespace xenballoon::sim::host
