#include "xenballoon/dom0/xenstore_feed.h"

#include <algorithm>
#include <cerrno>

#include "xenballoon/util/log.h"

namespace xenballoon::dom0 {
namespace {

constexpr const char* kDomainsToken = "xenballoon-domains";
constexpr const char* kIntroduceToken = "xenballoon-introduce";
constexpr const char* kReleaseToken = "xenballoon-release";

const std::vector<std::string>& memory_keys() {
  static const std::vector<std::string> keys = {"memory/target",  "memory/static-max",
                                                "memory/meminfo", "memory/vmstat",
                                                "memory/uptime",  "memory/selftarget"};
  return keys;
}

const std::vector<std::string>& data_keys() {
  static const std::vector<std::string> keys = {"data/meminfo_total", "data/meminfo_free"};
  return keys;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The last path component of a relative key ("memory/target" -> "target").
std::string_view leaf(std::string_view key) {
  auto slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

}  // namespace

XenstoreFeed::XenstoreFeed(GuestCache& cache, FeedOptions options)
    : cache_(cache),
      options_(std::move(options)),
      reconnect_(
          xenstore::Reconnect::Options{std::chrono::milliseconds(100), options_.max_backoff}) {}

XenstoreFeed::~XenstoreFeed() = default;

double XenstoreFeed::unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<void> XenstoreFeed::connect() {
  client_.reset();
  auto client = xenstore::Client::open(options_.socket_path);
  if (!client) return client.error();
  client_ = std::move(*client);
  if (options_.watch) {
    for (auto [path, token] : {std::pair{std::string(kDomainsRoot), kDomainsToken},
                               std::pair{std::string("@introduceDomain"), kIntroduceToken},
                               std::pair{std::string("@releaseDomain"), kReleaseToken}}) {
      auto watched = client_->watch(path, token);
      if (!watched) {
        client_.reset();
        return watched.error();
      }
    }
  }
  // Watches first, then the full read: a change during the read shows up as an event after it.
  auto synced = full_sync();
  if (!synced) {
    client_.reset();
    return synced.error();
  }
  status_.connected = true;
  status_.synced = true;
  if (reconnect_.succeeded()) {
    ++status_.reconnects;
    log::info("reconnected to xenstore");
  }
  last_activity_ = Clock::now();
  return {};
}

void XenstoreFeed::disconnect(const std::string& why) {
  if (!client_) return;
  log::warning("lost xenstore (" + why + "); serving the last known values, reconnecting");
  client_.reset();
  status_.connected = false;
  status_.synced = false;
  reconnect_.lost(Clock::now());
}

void XenstoreFeed::step() {
  if (!client_) {
    if (!reconnect_.due(Clock::now())) return;
    auto connected = connect();
    if (!connected) {
      std::string message = "cannot reach xenstore: " + connected.error().message;
      if (reconnect_.failed(Clock::now())) {
        log::warning(message + "; retrying with backoff");
      } else {
        log::debug(message);
      }
    }
    return;
  }
  if (options_.watch) apply_events();
  if (client_ && Clock::now() - last_activity_ >= options_.probe_interval) {
    // libxenstore does not wake the watch descriptor when the daemon goes away; ask something.
    auto probe = client_->domain_path(0);
    if (!probe) {
      disconnect(probe.error().message);
      return;
    }
    last_activity_ = Clock::now();
  }
}

int XenstoreFeed::poll_fd() {
  return client_ && options_.watch ? client_->watch_fd() : -1;
}

std::chrono::milliseconds XenstoreFeed::poll_timeout() const {
  auto now = Clock::now();
  auto due = client_ ? last_activity_ + options_.probe_interval : reconnect_.next_try();
  if (due <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(due - now) +
         std::chrono::milliseconds(1);
}

Result<void> XenstoreFeed::full_sync() {
  auto names = client_->list(std::string(kDomainsRoot));
  if (!names) {
    if (names.error().errnum != ENOENT) return names.error();
    names = std::vector<std::string>{};
  }
  std::set<std::uint32_t> present;
  double now = unix_now();
  for (const auto& name : *names) {
    auto domid = parse_domid(name);
    if (!domid) continue;
    auto read = read_domain(*domid);
    if (!read) return read.error();
    if (!*read) continue;
    present.insert(*domid);
    cache_.put_domain(*domid, (*read)->values, now, false);
    for (std::size_t i = 0; i < (*read)->unknown_agent_keys; ++i) {
      cache_.count_unknown_agent_key(*domid);
    }
  }
  cache_.retain(present);
  return {};
}

Result<std::optional<std::string>> XenstoreFeed::read_optional(const std::string& path) {
  auto value = client_->read(path);
  if (value) return std::optional<std::string>(std::move(*value));
  if (xenstore::is_connection_error(value.error())) return value.error();
  if (value.error().errnum != ENOENT) log::debug(value.error().message);
  return std::optional<std::string>();
}

Result<std::optional<std::vector<std::string>>> XenstoreFeed::list_optional(
    const std::string& path) {
  auto names = client_->list(path);
  if (names) return std::optional<std::vector<std::string>>(std::move(*names));
  if (xenstore::is_connection_error(names.error())) return names.error();
  if (names.error().errnum != ENOENT) log::debug(names.error().message);
  return std::optional<std::vector<std::string>>();
}

Result<std::optional<XenstoreFeed::DomainRead>> XenstoreFeed::read_domain(std::uint32_t domid) {
  const std::string home = domain_home(domid);
  auto children = list_optional(home);
  if (!children) return children.error();
  if (!*children) return std::optional<DomainRead>();
  DomainRead out;
  // Lists first, so that only keys that exist cost a read.
  auto read_into = [&](const std::string& key) -> Result<void> {
    auto value = read_optional(home + "/" + key);
    if (!value) return value.error();
    if (*value) out.values.emplace_back(key, std::move(**value));
    return {};
  };
  for (const char* key : {"name", "vm"}) {
    if (!contains(**children, key)) continue;
    if (auto r = read_into(key); !r) return r.error();
  }
  if (contains(**children, "memory")) {
    auto names = list_optional(home + "/memory");
    if (!names) return names.error();
    for (const auto& key : memory_keys()) {
      if (!*names || !contains(**names, leaf(key))) continue;
      if (auto r = read_into(key); !r) return r.error();
    }
  }
  if (contains(**children, "data")) {
    auto names = list_optional(home + "/data");
    if (!names) return names.error();
    for (const auto& key : data_keys()) {
      if (!*names || !contains(**names, leaf(key))) continue;
      if (auto r = read_into(key); !r) return r.error();
    }
    if (*names && contains(**names, "xenballoon")) {
      auto agent = list_optional(home + "/data/xenballoon");
      if (!agent) return agent.error();
      for (const auto& name : agent->value_or(std::vector<std::string>{})) {
        std::string key = "data/xenballoon/" + name;
        if (classify_key(key) != GuestKey::kAgentValue) {
          ++out.unknown_agent_keys;
          continue;
        }
        if (auto r = read_into(key); !r) return r.error();
      }
    }
  }
  return std::optional<DomainRead>(std::move(out));
}

void XenstoreFeed::collect_event(const xenstore::WatchEvent& event,
                                 std::map<std::uint32_t, Dirty>* dirty, bool* relist) {
  if (event.token == kIntroduceToken || event.token == kReleaseToken) {
    *relist = true;
    return;
  }
  if (event.token != kDomainsToken) return;
  auto where = parse_domain_path(event.path);
  if (!where) {
    if (event.path == kDomainsRoot) *relist = true;
    return;
  }
  GuestDir dir = classify_dir(where->relative);
  if (dir == GuestDir::kHome) {
    (*dirty)[where->domid].whole = true;
    return;
  }
  if (dir != GuestDir::kNone) {
    (*dirty)[where->domid].dirs.insert(dir);
    return;
  }
  GuestKey key = classify_key(where->relative);
  if (key == GuestKey::kOther) return;  // devices, console, control: not ours, not read
  if (key == GuestKey::kAgentUnknown) {
    cache_.count_unknown_agent_key(where->domid);
    return;
  }
  (*dirty)[where->domid].keys.emplace(where->relative);
}

void XenstoreFeed::apply_events() {
  std::map<std::uint32_t, Dirty> dirty;
  bool relist_needed = false;
  std::size_t taken = 0;
  while (taken < options_.max_events_per_pass) {
    auto event = client_->next_event();
    if (!event) break;
    ++taken;
    collect_event(*event, &dirty, &relist_needed);
  }
  if (taken == 0 && !relist_needed) return;
  last_activity_ = Clock::now();
  if (relist_needed) {
    if (auto r = relist(&dirty); !r) {
      disconnect(r.error().message);
      return;
    }
  }
  // Domains read whole first (new ones, homes that changed), then the keys that changed: a pass
  // behind a long backlog of events can take seconds, and meanwhile a scrape should miss a value
  // that changed rather than a guest that exists.
  // Keys of a domain not seen yet: libxl writes a new domain's keys before introducing it.
  for (auto& [domid, what] : dirty) what.whole = what.whole || !cache_.contains(domid);
  for (bool whole : {true, false}) {
    for (const auto& [domid, what] : dirty) {
      if (what.whole != whole) continue;
      auto r = refresh(domid, what);
      if (!r) {
        disconnect(r.error().message);
        return;
      }
    }
  }
}

Result<void> XenstoreFeed::relist(std::map<std::uint32_t, Dirty>* dirty) {
  auto names = list_optional(std::string(kDomainsRoot));
  if (!names) return names.error();
  std::set<std::uint32_t> present;
  for (const auto& name : names->value_or(std::vector<std::string>{})) {
    if (auto domid = parse_domid(name)) present.insert(*domid);
  }
  cache_.retain(present);
  for (std::uint32_t domid : present) {
    if (!cache_.contains(domid)) (*dirty)[domid].whole = true;
  }
  return {};
}

Result<void> XenstoreFeed::refresh(std::uint32_t domid, const Dirty& dirty) {
  if (dirty.whole) {
    auto read = read_domain(domid);
    if (!read) return read.error();
    if (!*read) {
      cache_.remove(domid);
      return {};
    }
    cache_.put_domain(domid, (*read)->values, unix_now(), true);
    for (std::size_t i = 0; i < (*read)->unknown_agent_keys; ++i) {
      cache_.count_unknown_agent_key(domid);
    }
    return {};
  }
  for (GuestDir dir : dirty.dirs) {
    if (auto r = refresh_dir(domid, dir); !r) return r;
  }
  const std::string home = domain_home(domid);
  for (const auto& key : dirty.keys) {
    auto value = read_optional(home + "/" + key);
    if (!value) return value.error();
    cache_.update(domid, key, *value, unix_now());
  }
  return {};
}

Result<void> XenstoreFeed::refresh_dir(std::uint32_t domid, GuestDir dir) {
  const std::string home = domain_home(domid);
  std::vector<std::string> keys;
  std::string dir_path;
  switch (dir) {
    case GuestDir::kMemory:
      dir_path = "memory";
      keys = memory_keys();
      break;
    case GuestDir::kData:
      dir_path = "data";
      keys = data_keys();
      break;
    case GuestDir::kAgentDir:
      dir_path = "data/xenballoon";
      for (auto key : agent_keys()) keys.push_back("data/xenballoon/" + std::string(key));
      break;
    case GuestDir::kHome:
    case GuestDir::kNone:
      return {};
  }
  auto names = list_optional(home + "/" + dir_path);
  if (!names) return names.error();
  for (const auto& key : keys) {
    std::optional<std::string> value;
    if (*names && contains(**names, leaf(key))) {
      auto read = read_optional(home + "/" + key);
      if (!read) return read.error();
      value = std::move(*read);
    }
    cache_.update(domid, key, value, unix_now());
  }
  if (dir == GuestDir::kData) return refresh_dir(domid, GuestDir::kAgentDir);
  return {};
}

}  // namespace xenballoon::dom0
