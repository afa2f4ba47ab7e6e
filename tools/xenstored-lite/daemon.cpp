#include "daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

// clang-format off
#include <cstdint>
#include <xen/io/xs_wire.h>
// clang-format on

#include "tree_text.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::xenstored_lite {

struct Connection {
  int fd = -1;
  std::uint32_t domid = 0;
  std::string in;
  std::string out;
  std::size_t out_offset = 0;
  std::vector<std::uint32_t> transactions;
  bool close_after_flush = false;
  bool dead = false;
  bool reading = true;
  bool want_write = false;
  std::uint64_t dropped_events = 0;

  std::size_t queued() const { return out.size() - out_offset; }
};

namespace {

constexpr std::size_t kHeaderSize = sizeof(xsd_sockmsg);
// The guest kernel's xenbus device refuses messages whose header and payload exceed its 4096-byte
// buffer: a guest program sees E2BIG and libxenstore closes the handle.
constexpr std::size_t kGuestPayloadMax = XENSTORE_PAYLOAD_MAX - kHeaderSize;
constexpr std::string_view kAck{"OK", 3};

// The NUL-terminated strings of a payload (xenstored's get_strings): trailing bytes after the last
// NUL are not a string.
std::vector<std::string_view> split_strings(std::string_view payload) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < payload.size()) {
    auto nul = payload.find('\0', start);
    if (nul == std::string_view::npos) break;
    out.push_back(payload.substr(start, nul - start));
    start = nul + 1;
  }
  return out;
}

// Exactly one string, NUL-terminated at the very end (xenstored's onearg).
bool one_arg(const std::string& payload, std::string* out) {
  if (payload.empty() || payload.find('\0') != payload.size() - 1) return false;
  out->assign(payload, 0, payload.size() - 1);
  return true;
}

bool parse_domid(std::string_view text, std::uint32_t* out) {
  auto value = parse_u64(text);
  if (!value || *value > 0x7fef) return false;  // DOMID_FIRST_RESERVED
  *out = static_cast<std::uint32_t>(*value);
  return true;
}

bool is_child_or_self(std::string_view child, std::string_view parent) {
  if (parent == "/") return true;
  if (child.substr(0, parent.size()) != parent) return false;
  return child.size() == parent.size() || child[parent.size()] == '/';
}

int make_listener(const std::string& path, std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    *error = "socket path too long (max " + std::to_string(sizeof addr.sun_path - 1) + "): " + path;
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 512) != 0) {
    *error = "cannot listen on " + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool mkdir_p(const std::string& dir) {
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (!partial.empty() && ::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

}  // namespace

Daemon::Daemon(DaemonOptions options, std::unique_ptr<Store> store)
    : options_(std::move(options)), store_(std::move(store)) {}

Daemon::~Daemon() {
  for (auto& [fd, conn] : conns_) ::close(fd);
  for (auto& [fd, domid] : listeners_) {
    ::close(fd);
    ::unlink(domid == 0 ? (options_.rundir + "/socket").c_str()
                        : domain_socket_path(domid).c_str());
    if (domid != 0) ::rmdir((options_.rundir + "/domain/" + std::to_string(domid)).c_str());
  }
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool Daemon::start(std::string* error) {
  // 1000+ simultaneous clients need more descriptors than the usual soft limit of 1024.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    *error = std::string("epoll_create1: ") + std::strerror(errno);
    return false;
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = signal_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &ev);

  if (!mkdir_p(options_.rundir)) {
    *error = "cannot create run directory " + options_.rundir + ": " + std::strerror(errno);
    return false;
  }
  int fd = make_listener(options_.rundir + "/socket", error);
  if (fd < 0) return false;
  listeners_[fd] = 0;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  return true;
}

std::string Daemon::domain_socket_path(std::uint32_t domid) const {
  return options_.rundir + "/domain/" + std::to_string(domid) + "/socket";
}

int Daemon::run() {
  std::vector<epoll_event> events(256);
  while (!stopping_) {
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error(std::string("epoll_wait: ") + std::strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == signal_fd_) {
        handle_signal();
        continue;
      }
      if (auto l = listeners_.find(fd); l != listeners_.end()) {
        accept_on(fd, l->second);
        continue;
      }
      auto c = conns_.find(fd);
      if (c == conns_.end()) continue;
      Connection& conn = *c->second;
      bool hangup = events[i].events & (EPOLLERR | EPOLLHUP);
      if (hangup && !conn.reading) conn.dead = true;  // paused reader that went away
      if (!conn.dead && (events[i].events & EPOLLOUT)) on_writable(conn);
      if (!conn.dead && (hangup || (events[i].events & EPOLLIN))) on_readable(conn);
    }
    for (int fd : std::vector<int>(dirty_.begin(), dirty_.end())) {
      auto c = conns_.find(fd);
      if (c != conns_.end() && !c->second->dead) flush(*c->second);
    }
    dirty_.clear();
    std::vector<int> dead;
    for (auto& [fd, conn] : conns_) {
      if (conn->dead) dead.push_back(fd);
    }
    for (int fd : dead) close_connection(fd);
  }
  write_dump();
  return 0;
}

void Daemon::handle_signal() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) stopping_ = true;
    if (info.ssi_signo == SIGUSR1) write_dump();
  }
}

void Daemon::write_dump() {
  if (options_.dump_path.empty()) return;
  auto result = write_file_atomic(options_.dump_path, dump_tree(*store_));
  if (!result) log::error("cannot dump tree: " + result.error().message);
}

void Daemon::accept_on(int listen_fd, std::uint32_t domid) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        log::warning(std::string("accept: ") + std::strerror(errno));
      }
      if (errno == EINTR) continue;
      return;
    }
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    conn->domid = domid;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    conns_[fd] = std::move(conn);
  }
}

void Daemon::close_connection(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  for (std::uint32_t id : it->second->transactions)
    (void)store_->transaction_end(id, false, nullptr);
  watches_.erase(fd);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  dirty_.erase(fd);
  conns_.erase(it);
}

void Daemon::update_interest(Connection& conn) {
  epoll_event ev{};
  ev.events = (conn.reading ? EPOLLIN : 0u) | (conn.want_write ? EPOLLOUT : 0u);
  ev.data.fd = conn.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.fd, &ev);
}

void Daemon::on_readable(Connection& conn) {
  // Bounded per wake-up so that one busy client cannot starve the others.
  char buf[65536];
  for (int round = 0; round < 4 && conn.reading; ++round) {
    ssize_t n = ::recv(conn.fd, buf, sizeof buf, 0);
    if (n == 0) {
      conn.dead = true;
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) conn.dead = true;
      break;
    }
    conn.in.append(buf, static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < sizeof buf) break;
  }
  consume(conn);
}

void Daemon::consume(Connection& conn) {
  std::size_t pos = 0;
  while (!conn.dead && !conn.close_after_flush && conn.in.size() - pos >= kHeaderSize) {
    if (conn.queued() > options_.max_queued_output) break;  // resume once the client reads
    xsd_sockmsg hdr;
    std::memcpy(&hdr, conn.in.data() + pos, kHeaderSize);
    if (hdr.len > XENSTORE_PAYLOAD_MAX) {
      // xenstored drops such a client; say why first.
      reply_error(conn, hdr.req_id, hdr.tx_id, E2BIG);
      conn.close_after_flush = true;
      break;
    }
    if (conn.in.size() - pos < kHeaderSize + hdr.len) break;
    if (conn.domid != 0 && hdr.len > kGuestPayloadMax) {
      reply_error(conn, hdr.req_id, hdr.tx_id, E2BIG);
      conn.close_after_flush = true;
      pos += kHeaderSize + hdr.len;
      break;
    }
    std::string payload = conn.in.substr(pos + kHeaderSize, hdr.len);
    pos += kHeaderSize + hdr.len;
    process(conn, hdr.type, hdr.req_id, hdr.tx_id, payload);
  }
  conn.in.erase(0, pos);

  bool should_read = !conn.close_after_flush && conn.queued() <= options_.max_queued_output;
  if (should_read != conn.reading) {
    conn.reading = should_read;
    update_interest(conn);
  }
  dirty_.insert(conn.fd);
}

std::string Daemon::feed(std::uint32_t domid, std::string_view bytes) {
  // Below every descriptor and never a real one: close_connection()'s close() fails harmlessly.
  constexpr int kFedFd = -2;
  auto owned = std::make_unique<Connection>();
  Connection& conn = *owned;
  conn.fd = kFedFd;
  conn.domid = domid;
  conn.in.assign(bytes);
  conns_[kFedFd] = std::move(owned);
  std::string replies;
  // consume() pauses once max_queued_output is queued; take what it queued and go on.
  while (!conn.dead && !conn.close_after_flush) {
    const std::size_t before = conn.in.size();
    consume(conn);
    replies += conn.out;
    conn.out.clear();
    conn.out_offset = 0;
    if (conn.in.size() == before) break;
  }
  close_connection(kFedFd);
  return replies;
}

void Daemon::on_writable(Connection& conn) {
  flush(conn);
  if (!conn.dead && !conn.reading && !conn.close_after_flush &&
      conn.queued() <= options_.max_queued_output) {
    conn.reading = true;
    update_interest(conn);
    on_readable(conn);  // process what was buffered while paused
  }
}

void Daemon::flush(Connection& conn) {
  while (conn.queued() > 0) {
    ssize_t n = ::send(conn.fd, conn.out.data() + conn.out_offset, conn.queued(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      conn.dead = true;
      return;
    }
    conn.out_offset += static_cast<std::size_t>(n);
  }
  if (conn.queued() == 0) {
    conn.out.clear();
    conn.out_offset = 0;
    if (conn.close_after_flush) {
      conn.dead = true;
      return;
    }
  } else if (conn.out_offset > (1 << 16)) {
    conn.out.erase(0, conn.out_offset);
    conn.out_offset = 0;
  }
  bool want_write = conn.queued() > 0;
  if (want_write != conn.want_write) {
    conn.want_write = want_write;
    update_interest(conn);
  }
}

void Daemon::reply(Connection& conn, std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id,
                   std::string_view payload) {
  xsd_sockmsg hdr{type, req_id, tx_id, static_cast<std::uint32_t>(payload.size())};
  conn.out.append(reinterpret_cast<const char*>(&hdr), kHeaderSize);
  conn.out.append(payload);
  dirty_.insert(conn.fd);
}

void Daemon::reply_error(Connection& conn, std::uint32_t req_id, std::uint32_t tx_id, int err) {
  const char* name = errno_name(err);
  reply(conn, XS_ERROR, req_id, tx_id, std::string_view(name, std::strlen(name) + 1));
}

void Daemon::send_event(Connection& conn, const std::string& path, const std::string& token) {
  std::size_t len = path.size() + 1 + token.size() + 1;
  if (len > XENSTORE_PAYLOAD_MAX) return;
  if (conn.queued() > 2 * options_.max_queued_output) {
    if (conn.dropped_events++ == 0) {
      log::warning("client of domain " + std::to_string(conn.domid) +
                   " does not read: dropping its watch events");
    }
    return;
  }
  std::string payload;
  payload.reserve(len);
  payload.append(path).push_back('\0');
  payload.append(token).push_back('\0');
  reply(conn, XS_WATCH_EVENT, 0, 0, payload);
}

std::size_t Daemon::watches_of(std::uint32_t domid) const {
  std::size_t count = 0;
  for (const auto& [fd, watches] : watches_) {
    auto c = conns_.find(fd);
    if (c != conns_.end() && c->second->domid == domid) count += watches.size();
  }
  return count;
}

void Daemon::fire(const std::vector<WatchTrigger>& triggers) {
  for (const auto& trigger : triggers) {
    for (auto& [fd, watches] : watches_) {
      if (watches.empty()) continue;
      Connection& conn = *conns_.at(fd);
      if (conn.dead) continue;
      if (!Store::can_read_event(Caller{conn.domid}, trigger)) continue;
      for (const auto& watch : watches) {
        bool match =
            trigger.exact ? trigger.path == watch.path : is_child_or_self(trigger.path, watch.path);
        if (!match) continue;
        std::string path = trigger.path;
        if (watch.relative) {
          std::string prefix = Store::implicit_path(conn.domid);
          path = path.size() > prefix.size() ? path.substr(prefix.size() + 1) : std::string();
        }
        send_event(conn, path, watch.token);
      }
    }
  }
}

void Daemon::fire_special(const std::string& name) {
  Perms perms = store_->special_perms(name);
  for (auto& [fd, watches] : watches_) {
    Connection& conn = *conns_.at(fd);
    if (conn.dead || !(Store::perm_for(Caller{conn.domid}, perms) & kPermRead)) continue;
    for (const auto& watch : watches) {
      if (watch.path == name) send_event(conn, name, watch.token);
    }
  }
}

// The message table, indexed by type, in the way C xenstored keeps its wire_funcs: one row per
// XS_* type with its handler and what process() checks before calling it.
namespace {

// Guests may not send it: EACCES from any but dom0.
constexpr unsigned kFlagPrivileged = 1u << 0;
// The header's tx_id is not looked up (xenstored's XS_FLAG_NOTID): watches are not
// transactional.
constexpr unsigned kFlagNoTransaction = 1u << 1;
// When it fails on a guest socket, the write() to /dev/xen/xenbus fails and libxenstore closes
// its handle: the connection is closed once the error is sent.
constexpr unsigned kFlagGuestClosesOnError = 1u << 2;

}  // namespace

const Daemon::WireFunc* Daemon::wire_func(std::uint32_t type) {
  static constexpr WireFunc kWireFuncs[XS_TYPE_COUNT] = {
      /* XS_CONTROL */ {"CONTROL", &Daemon::do_control, kFlagPrivileged},
      /* XS_DIRECTORY */ {"DIRECTORY", &Daemon::do_directory, 0},
      /* XS_READ */ {"READ", &Daemon::do_read, 0},
      /* XS_GET_PERMS */ {"GET_PERMS", &Daemon::do_get_perms, 0},
      /* XS_WATCH */
      {"WATCH", &Daemon::do_watch, kFlagNoTransaction | kFlagGuestClosesOnError},
      /* XS_UNWATCH */ {"UNWATCH", &Daemon::do_unwatch, kFlagNoTransaction},
      /* XS_TRANSACTION_START */ {"TRANSACTION_START", &Daemon::do_transaction_start, 0},
      /* XS_TRANSACTION_END */ {"TRANSACTION_END", &Daemon::do_transaction_end, 0},
      /* XS_INTRODUCE */ {"INTRODUCE", &Daemon::do_introduce, kFlagPrivileged},
      /* XS_RELEASE */ {"RELEASE", &Daemon::do_release, kFlagPrivileged},
      /* XS_GET_DOMAIN_PATH */ {"GET_DOMAIN_PATH", &Daemon::do_get_domain_path, 0},
      /* XS_WRITE */ {"WRITE", &Daemon::do_write, 0},
      /* XS_MKDIR */ {"MKDIR", &Daemon::do_mkdir, 0},
      /* XS_RM */ {"RM", &Daemon::do_rm, 0},
      /* XS_SET_PERMS */ {"SET_PERMS", &Daemon::do_set_perms, 0},
      /* XS_WATCH_EVENT */ {"WATCH_EVENT", nullptr, 0},
      /* XS_ERROR */ {"ERROR", nullptr, 0},
      /* XS_IS_DOMAIN_INTRODUCED */
      {"IS_DOMAIN_INTRODUCED", &Daemon::do_is_domain_introduced, kFlagPrivileged},
      /* XS_RESUME */ {"RESUME", &Daemon::do_resume, kFlagPrivileged},
      /* XS_SET_TARGET */ {"SET_TARGET", &Daemon::do_set_target, kFlagPrivileged},
      /* XS_SET_TARGET + 1, was XS_RESTRICT */ {"RESTRICT", nullptr, 0},
      /* XS_RESET_WATCHES */ {"RESET_WATCHES", &Daemon::do_reset_watches, 0},
      /* XS_DIRECTORY_PART */ {"DIRECTORY_PART", &Daemon::do_directory_part, 0},
  };
  static_assert(XS_CONTROL == 0 && XS_SET_PERMS == 14 && XS_ERROR == 16 && XS_SET_TARGET == 19 &&
                XS_RESET_WATCHES == 21 && XS_DIRECTORY_PART == 22 && XS_TYPE_COUNT == 23);
  return type < XS_TYPE_COUNT ? &kWireFuncs[type] : nullptr;
}

void Daemon::process(Connection& conn, std::uint32_t type, std::uint32_t req_id,
                     std::uint32_t tx_id, const std::string& payload) {
  const WireFunc* func = wire_func(type);
  if (!func || !func->handler) {
    reply_error(conn, req_id, tx_id, ENOSYS);
    return;
  }
  if ((func->flags & kFlagPrivileged) && conn.domid != 0) {
    reply_error(conn, req_id, tx_id, EACCES);
    return;
  }
  Transaction* tx = nullptr;
  if (!(func->flags & kFlagNoTransaction) && tx_id != 0) {
    auto& mine = conn.transactions;
    if (std::find(mine.begin(), mine.end(), tx_id) == mine.end() ||
        !(tx = store_->find_transaction(tx_id))) {
      reply_error(conn, req_id, tx_id, ENOENT);
      return;
    }
  }
  if (log::enabled(log::Level::kDebug)) {
    log::debug("request type " + std::to_string(type) + " (" + func->name + ") from domain " +
               std::to_string(conn.domid));
  }
  const Request req{conn, type, req_id, tx_id, payload, tx};
  int err = (this->*func->handler)(req);
  if (err) {
    reply_error(conn, req_id, tx_id, err);
    if ((func->flags & kFlagGuestClosesOnError) && conn.domid != 0) conn.close_after_flush = true;
  }
}

void Daemon::reply(const Request& req, std::string_view payload) {
  reply(req.conn, req.type, req.req_id, req.tx_id, payload);
}

void Daemon::ack(const Request& req) {
  reply(req, kAck);
}

int Daemon::do_read(const Request& req) {
  Caller caller{req.conn.domid};
  std::string arg;
  if (!one_arg(req.payload, &arg)) return EINVAL;
  std::string value;
  if (int err = store_->read(caller, req.tx, Store::canonicalize(caller, arg), &value)) return err;
  reply(req, value);
  return 0;
}

int Daemon::do_directory(const Request& req) {
  Caller caller{req.conn.domid};
  std::string arg;
  if (!one_arg(req.payload, &arg)) return EINVAL;
  std::vector<std::string> children;
  int err = store_->directory(caller, req.tx, Store::canonicalize(caller, arg), &children);
  if (err) return err;
  std::string out;
  for (const auto& child : children) out.append(child).push_back('\0');
  if (out.size() > XENSTORE_PAYLOAD_MAX) return E2BIG;
  reply(req, out);
  return 0;
}

int Daemon::do_directory_part(const Request& req) {
  Caller caller{req.conn.domid};
  auto args = split_strings(req.payload);
  if (args.size() != 2) return EINVAL;
  std::vector<std::string> children;
  std::uint64_t generation = 0;
  int err = store_->directory(caller, req.tx, Store::canonicalize(caller, args[0]), &children,
                              &generation);
  if (err) return err;
  std::string all;
  for (const auto& child : children) all.append(child).push_back('\0');
  std::size_t offset = std::strtoul(std::string(args[1]).c_str(), nullptr, 10);
  std::string out = std::to_string(generation);
  out.push_back('\0');
  if (offset >= all.size()) {
    out.push_back('\0');
    reply(req, out);
    return 0;
  }
  // As many whole names as fit, and a final empty string once the list is complete.
  std::size_t max_len = XENSTORE_PAYLOAD_MAX - out.size() - 1;
  std::size_t len = 0;
  while (true) {
    std::size_t name_len = std::strlen(all.c_str() + offset + len);
    if (len + name_len >= max_len) break;
    len += name_len + 1;
    if (offset + len == all.size()) break;
  }
  out.append(all, offset, len);
  if (offset + len == all.size()) out.push_back('\0');
  reply(req, out);
  return 0;
}

int Daemon::do_get_perms(const Request& req) {
  Caller caller{req.conn.domid};
  std::string arg;
  if (!one_arg(req.payload, &arg)) return EINVAL;
  Perms perms;
  if (int err = store_->get_perms(caller, req.tx, Store::canonicalize(caller, arg), &perms)) {
    return err;
  }
  std::string out;
  for (const auto& p : perms) out.append(perms_to_text({p})).push_back('\0');
  reply(req, out);
  return 0;
}

int Daemon::do_write(const Request& req) {
  Caller caller{req.conn.domid};
  auto nul = req.payload.find('\0');
  if (nul == std::string::npos) return EINVAL;
  std::string_view payload = req.payload;
  std::string path = Store::canonicalize(caller, payload.substr(0, nul));
  std::string_view value = payload.substr(nul + 1);
  std::vector<WatchTrigger> fired;
  if (int err = store_->write(caller, req.tx, path, value, &fired)) return err;
  fire(fired);
  ack(req);
  return 0;
}

int Daemon::do_mkdir(const Request& req) {
  Caller caller{req.conn.domid};
  std::string arg;
  if (!one_arg(req.payload, &arg)) return EINVAL;
  std::vector<WatchTrigger> fired;
  if (int err = store_->mkdir(caller, req.tx, Store::canonicalize(caller, arg), &fired)) {
    return err;
  }
  fire(fired);
  ack(req);
  return 0;
}

int Daemon::do_rm(const Request& req) {
  Caller caller{req.conn.domid};
  std::string arg;
  if (!one_arg(req.payload, &arg)) return EINVAL;
  std::vector<WatchTrigger> fired;
  if (int err = store_->rm(caller, req.tx, Store::canonicalize(caller, arg), &fired)) return err;
  fire(fired);
  ack(req);
  return 0;
}

int Daemon::do_set_perms(const Request& req) {
  Caller caller{req.conn.domid};
  auto args = split_strings(req.payload);
  if (args.size() < 2) return EINVAL;
  Perms perms;
  for (std::size_t i = 1; i < args.size(); ++i) {
    Perm p;
    if (!parse_perm(args[i], &p)) return EINVAL;
    perms.push_back(p);
  }
  std::string path = Store::canonicalize(caller, args[0]);
  std::vector<WatchTrigger> fired;
  if (int err = store_->set_perms(caller, req.tx, path, perms, &fired)) return err;
  fire(fired);
  ack(req);
  return 0;
}

int Daemon::do_watch(const Request& req) {
  Connection& conn = req.conn;
  Caller caller{conn.domid};
  auto args = split_strings(req.payload);
  if (args.size() != 2) return EINVAL;
  Watch watch;
  watch.token = std::string(args[1]);
  if (!args[0].empty() && args[0].front() == '@') {
    if (args[0].size() > 2048) return EINVAL;
    watch.path = std::string(args[0]);
  } else {
    watch.relative = args[0].empty() || args[0].front() != '/';
    watch.path = Store::canonicalize(caller, args[0]);
    if (!Store::is_valid_path(watch.path)) return EINVAL;
  }
  auto& mine = watches_[conn.fd];
  if (caller.privileged()) {
    for (const auto& w : mine) {
      if (w.path == watch.path && w.token == watch.token) return EEXIST;
    }
  }
  // xenstored compares with '>': a domain may register one more than the quota; in a guest
  // the kernel's own watches count too.
  if (!caller.privileged() && watches_of(conn.domid) + options_.guest_kernel_watches >
                                  options_.quotas.max_watches_per_domain) {
    return E2BIG;
  }
  mine.push_back(watch);
  ack(req);
  std::string event_path = watch.path;
  if (watch.relative) {
    std::string prefix = Store::implicit_path(conn.domid);
    event_path = event_path.size() > prefix.size() ? event_path.substr(prefix.size() + 1) : "";
  }
  send_event(conn, event_path, watch.token);  // the initial event xenstored always sends
  return 0;
}

int Daemon::do_unwatch(const Request& req) {
  Caller caller{req.conn.domid};
  auto args = split_strings(req.payload);
  if (args.size() != 2) return EINVAL;
  std::string path = Store::canonicalize(caller, args[0]);
  auto& mine = watches_[req.conn.fd];
  for (auto it = mine.begin(); it != mine.end(); ++it) {
    if (it->path == path && it->token == args[1]) {
      mine.erase(it);
      ack(req);
      return 0;
    }
  }
  if (!caller.privileged()) {  // the guest's xenbus driver answers unknown unwatches itself
    ack(req);
    return 0;
  }
  return ENOENT;
}

int Daemon::do_transaction_start(const Request& req) {
  if (req.tx) return EBUSY;
  std::uint32_t id = 0;
  if (int err = store_->transaction_start(Caller{req.conn.domid}, &id)) return err;
  req.conn.transactions.push_back(id);
  std::string out = std::to_string(id);
  out.push_back('\0');
  reply(req, out);
  return 0;
}

int Daemon::do_transaction_end(const Request& req) {
  if (!req.tx) return ENOENT;
  std::string arg;
  if (!one_arg(req.payload, &arg) || (arg != "T" && arg != "F")) return EINVAL;
  std::erase(req.conn.transactions, req.tx_id);
  std::vector<WatchTrigger> fired;
  if (int err = store_->transaction_end(req.tx_id, arg == "T", &fired)) return err;
  fire(fired);
  ack(req);
  return 0;
}

int Daemon::do_get_domain_path(const Request& req) {
  std::string arg;
  std::uint32_t domid = 0;
  if (!one_arg(req.payload, &arg) || !parse_domid(arg, &domid)) return EINVAL;
  std::string out = Store::implicit_path(domid);
  out.push_back('\0');
  reply(req, out);
  return 0;
}

int Daemon::do_introduce(const Request& req) {
  auto args = split_strings(req.payload);
  std::uint32_t domid = 0;
  if (args.size() < 3 || !parse_domid(args[0], &domid) || domid == 0) return EINVAL;
  auto port = parse_u64(args[2]);
  if (!port || *port == 0 || !parse_u64(args[1])) return EINVAL;
  if (int err = introduce(domid)) return err;
  ack(req);
  return 0;
}

int Daemon::do_release(const Request& req) {
  std::string arg;
  std::uint32_t domid = 0;
  if (!one_arg(req.payload, &arg) || !parse_domid(arg, &domid) || domid == 0) return EINVAL;
  if (int err = release(domid)) return err;
  ack(req);
  return 0;
}

int Daemon::do_is_domain_introduced(const Request& req) {
  std::string arg;
  std::uint32_t domid = 0;
  if (!one_arg(req.payload, &arg) || !parse_domid(arg, &domid)) return EINVAL;
  bool known = domid == 0 || domain_listener_.count(domid);
  reply(req, std::string_view(known ? "T" : "F", 2));
  return 0;
}

int Daemon::do_resume(const Request& req) {
  std::string arg;
  std::uint32_t domid = 0;
  if (!one_arg(req.payload, &arg) || !parse_domid(arg, &domid)) return EINVAL;
  if (domid != 0 && !domain_listener_.count(domid)) return ENOENT;
  ack(req);
  return 0;
}

int Daemon::do_set_target(const Request& req) {
  auto args = split_strings(req.payload);
  std::uint32_t domid = 0, target = 0;
  if (args.size() != 2 || !parse_domid(args[0], &domid) || !parse_domid(args[1], &target)) {
    return EINVAL;
  }
  if (!domain_listener_.count(domid)) return ENOENT;
  ack(req);
  return 0;
}

int Daemon::do_reset_watches(const Request& req) {
  Connection& conn = req.conn;
  watches_.erase(conn.fd);
  for (std::uint32_t id : conn.transactions) (void)store_->transaction_end(id, false, nullptr);
  conn.transactions.clear();
  ack(req);
  return 0;
}

int Daemon::do_control(const Request& req) {
  auto args = split_strings(req.payload);
  if (args.empty()) return EINVAL;
  if (args[0] == "quota") {
    char line[128];
    std::string out = "Quota settings:\n";
    auto add = [&](const char* name, std::uint64_t value, const char* what) {
      std::snprintf(line, sizeof line, "%-17s: %8llu %s\n", name,
                    static_cast<unsigned long long>(value), what);
      out += line;
    };
    const Quotas& q = options_.quotas;
    add("nodes", q.max_nodes_per_domain, "Nodes per domain");
    add("watches", q.max_watches_per_domain, "Watches per domain");
    add("transactions", q.max_transactions_per_domain, "Transactions per domain");
    add("outstanding", 20, "Outstanding requests per domain");
    add("transaction-nodes", 1024, "Max. number of accessed nodes per transaction");
    add("memory", 2621440, "Total Xenstore memory per domain (error level)");
    add("node-size", q.max_entry_size, "Max. size of a node");
    add("path-max", 2048, "Max. length of a node path");
    add("permissions", q.max_perms_per_node, "Max. number of permissions per node");
    out.push_back('\0');
    reply(req, out);
    return 0;
  }
  if (args[0] == "print" || args[0] == "log") {
    if (args.size() > 1) log::info("control: " + std::string(args[1]));
    ack(req);
    return 0;
  }
  return EINVAL;
}

int Daemon::introduce(std::uint32_t domid) {
  if (domain_listener_.count(domid)) return 0;  // re-introduction of a known domain
  std::string dir = options_.rundir + "/domain/" + std::to_string(domid);
  if (!mkdir_p(dir)) {
    log::error("cannot create " + dir + ": " + std::strerror(errno));
    return EIO;
  }
  std::string error;
  int fd = make_listener(domain_socket_path(domid), &error);
  if (fd < 0) {
    log::error(error);
    return EIO;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  listeners_[fd] = domid;
  domain_listener_[domid] = fd;
  fire_special("@introduceDomain");
  return 0;
}

int Daemon::release(std::uint32_t domid) {
  auto it = domain_listener_.find(domid);
  if (it == domain_listener_.end()) return ENOENT;
  int fd = it->second;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  listeners_.erase(fd);
  domain_listener_.erase(it);
  ::unlink(domain_socket_path(domid).c_str());
  ::rmdir((options_.rundir + "/domain/" + std::to_string(domid)).c_str());
  for (auto& [cfd, conn] : conns_) {
    if (conn->domid == domid) conn->dead = true;
  }
  for (auto& [cfd, conn] : conns_) {
    if (conn->dead) {
      watches_.erase(cfd);
      for (std::uint32_t id : conn->transactions) (void)store_->transaction_end(id, false, nullptr);
      conn->transactions.clear();
    }
  }
  std::vector<WatchTrigger> fired;
  store_->remove_nodes_owned_by(domid, &fired);
  fire(fired);
  fire_special("@releaseDomain");
  return 0;
}

}  // namespace xenballoon::xenstored_lite
