#include "xenstore_link.h"

#include <cerrno>

#include "agent_metrics.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"
#include "xenballoon/xenstore/client.h"
#include "xenballoon/xenstore/keys.h"

namespace xenballoon::agent {
namespace {

namespace keys = xenstore::keys;

constexpr const char* kWatchToken = "xenballoond-memory";
// The domain's id, below its home; written by the toolstack.
constexpr std::string_view kMemoryPrefix = "memory/";

std::string memory_path(std::string_view key) {
  return std::string(kMemoryPrefix) + std::string(key);
}

// The key below memory/ of a path dom0 writes.
std::string_view memory_key(std::string_view path) {
  path.remove_prefix(kMemoryPrefix.size());
  return path;
}

}  // namespace

XenstoreLink::XenstoreLink(std::string socket, AgentMetrics& metrics)
    : socket_(std::move(socket)), metrics_(metrics) {}

XenstoreLink::~XenstoreLink() = default;

int XenstoreLink::watch_fd() const {
  return watcher_ ? watcher_->watch_fd() : -1;
}

Dom0View XenstoreLink::dom0() const {
  std::lock_guard lock(dom0_mutex_);
  return dom0_;
}

std::optional<XenstoreLink::Clock::time_point> XenstoreLink::take_target_event() {
  auto event = target_event_;
  target_event_.reset();
  return event;
}

bool XenstoreLink::ensure() {
  if (requests_) return true;
  if (!reconnect_.due(Clock::now())) return false;
  auto client = xenstore::Client::open(socket_);
  if (!client) {
    if (reconnect_.failed(Clock::now()) && !reconnect_.ever_connected()) {
      log::warning("no xenstore yet (" + client.error().message +
                   "); running without dom0's target and publishing, retrying in the background");
    }
    return false;
  }
  // Two connections: one holds the watch, and so libxenstore's reader thread through which
  // every reply on it would travel; the other makes the requests, whose replies come straight
  // back to this thread (about half the CPU per request).
  auto requests = xenstore::Client::open(socket_);
  Result<void> watched =
      requests ? (*client)->watch(std::string(keys::kMemoryDir), kWatchToken) : Result<void>();
  if (!requests || !watched) {
    if (!watched) count_error("watch", watched.error());
    reconnect_.failed(Clock::now());
    return false;
  }
  watcher_ = std::move(*client);
  requests_ = std::move(*requests);
  if (reconnect_.succeeded()) {
    metrics_.xenstore_reconnects().Increment();
    log::info("reconnected to xenstore");
  } else {
    log::info("connected to xenstore");
  }
  metrics_.xenstore_connected().Set(1);
  reread_after_resume("connected");
  return requests_ != nullptr;
}

// After a restore or migration the domain id, its home and its static-max may have changed, and
// the new home holds none of our keys. In a PV guest the xenbus connection survives a restore,
// so this runs on every sign of one: a (re)connection, the watch registering afresh (the kernel
// re-registers watches on resume, which fires the initial event again) or a new domid.
void XenstoreLink::reread_after_resume(const char* why) {
  if (!requests_) return;
  log::debug(std::string("reading memory/ afresh (") + why + ")");
  ++generation_;
  read_memory_key(memory_key(keys::kTarget));
  read_memory_key(memory_key(keys::kStaticMax));
  for (const keys::OverrideSpec& spec : keys::overrides()) read_memory_key(spec.name);
  if (auto domid = requests_->read(std::string(keys::kDomid))) domid_ = *domid;
}

void XenstoreLink::check_domid() {
  if (!requests_) return;
  if (auto domid = requests_->read(std::string(keys::kDomid));
      domid && domid_ && *domid != *domid_) {
    log::info("domain id changed from " + *domid_ + " to " + *domid +
              " (restored or migrated): publishing everything again");
    reread_after_resume("domid changed");
  }
}

void XenstoreLink::disconnect(const std::string& why) {
  if (!requests_) return;
  log::warning("lost xenstore (" + why + "); reconnecting with backoff");
  requests_.reset();
  watcher_.reset();
  metrics_.xenstore_connected().Set(0);
  reconnect_.lost(Clock::now());
}

void XenstoreLink::count_error(const char* operation, const Error& error) {
  metrics_.xenstore_error(operation, xenstore::errno_name(error.errnum)).Increment();
  log::debug(error.message);
  if (xenstore::is_connection_error(error)) disconnect(error.message);
}

void XenstoreLink::read_target() {
  read_memory_key(memory_key(keys::kTarget));
}

void XenstoreLink::read_memory_key(std::string_view key) {
  if (!requests_) return;
  const std::string path = memory_path(key);
  const bool is_target = path == keys::kTarget;
  const bool is_static_max = path == keys::kStaticMax;
  const std::optional<keys::Override> which = keys::parse_override(key);
  auto value = requests_->read(path);
  if (!value) {
    if (value.error().errnum != ENOENT) count_error("read", value.error());
    std::lock_guard lock(dom0_mutex_);
    if (is_target) dom0_.target_kib.reset();
    if (is_static_max) dom0_.static_max_kib.reset();
    if (which) dom0_.overrides.slot(*which).reset();
    return;
  }
  auto number = parse_u64(trim(*value));
  if (is_target || is_static_max) {
    if (!number) log::warning(path + " is not a number: \"" + *value + "\"");
    std::lock_guard lock(dom0_mutex_);
    auto& field = is_target ? dom0_.target_kib : dom0_.static_max_kib;
    // A new dom0 target is followed at once, whichever read noticed it.
    if (is_target && field && number && field != number) target_event_ = Clock::now();
    field = number;
    return;
  }
  if (!which) return;
  std::optional<std::string> problem;
  if (!number) {
    problem = "not a whole number";
  } else {
    problem = keys::check_override(*which, *number);
  }
  std::lock_guard lock(dom0_mutex_);
  std::optional<std::uint64_t>& slot = dom0_.overrides.slot(*which);
  if (problem) {
    log::warning("ignoring dom0 override " + path + " = \"" + value->substr(0, 64) +
                 "\": " + *problem);
    metrics_.override_error(std::string(key)).Increment();
    slot.reset();
    return;
  }
  if (slot != number) log::info("dom0 override " + path + " = " + std::to_string(*number));
  slot = number;
}

void XenstoreLink::handle_watch_events() {
  // A read error may disconnect, and so end the loop.
  while (watcher_) {
    auto event = watcher_->next_event();
    if (!event) break;
    if (event->token != kWatchToken) continue;
    std::string_view path = event->path;
    if (path == keys::kMemoryDir) {  // the watch's initial event: at start and after a resume
      reread_after_resume("watch registered");
      continue;
    }
    auto slash = path.rfind(kMemoryPrefix);
    if (slash == std::string_view::npos) continue;
    const std::string_view key = path.substr(slash + kMemoryPrefix.size());
    const std::string full = memory_path(key);
    if (full == keys::kTarget || full == keys::kStaticMax || keys::parse_override(key)) {
      read_memory_key(key);
    }
  }
}

}  // namespace xenballoon::agent
