#include "xenballoon/xenstore/client.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern "C" {
#include <xenstore.h>
}

namespace xenballoon::xenstore {
namespace {

Error op_error(const char* op, const std::string& path) {
  int err = errno ? errno : EIO;
  return Error{std::string("xenstore ") + op + " " + path + ": " + errno_name(err), err};
}

Result<std::string> do_read(xs_handle* h, xs_transaction_t t, const std::string& path) {
  unsigned len = 0;
  errno = 0;
  void* data = xs_read(h, t, path.c_str(), &len);
  if (!data) return op_error("read", path);
  std::string value(static_cast<char*>(data), len);
  std::free(data);
  return value;
}

Result<std::vector<std::string>> do_list(xs_handle* h, xs_transaction_t t,
                                         const std::string& path) {
  unsigned num = 0;
  errno = 0;
  char** names = xs_directory(h, t, path.c_str(), &num);
  if (!names) return op_error("list", path);
  std::vector<std::string> out(names, names + num);
  std::free(names);
  return out;
}

Result<void> do_write(xs_handle* h, xs_transaction_t t, const std::string& path,
                      std::string_view value) {
  errno = 0;
  if (!xs_write(h, t, path.c_str(), value.data(), static_cast<unsigned>(value.size()))) {
    return op_error("write", path);
  }
  return {};
}

Result<void> do_remove(xs_handle* h, xs_transaction_t t, const std::string& path) {
  errno = 0;
  if (!xs_rm(h, t, path.c_str())) return op_error("rm", path);
  return {};
}

}  // namespace

Result<std::unique_ptr<Client>> Client::open(const std::string& socket_path) {
  errno = 0;
  xs_handle* handle = nullptr;
  if (socket_path.empty()) {
    handle = xs_open(0);
  } else {
    // xs_open() reads XENSTORED_PATH only; set it for the call and put it back.
    const char* old = std::getenv("XENSTORED_PATH");
    std::string saved = old ? old : "";
    ::setenv("XENSTORED_PATH", socket_path.c_str(), 1);
    handle = xs_open(0);
    int err = errno;
    if (old) {
      ::setenv("XENSTORED_PATH", saved.c_str(), 1);
    } else {
      ::unsetenv("XENSTORED_PATH");
    }
    errno = err;
  }
  if (!handle) {
    int err = errno ? errno : ENOENT;
    std::string where = socket_path.empty() ? "(default socket or xenbus)" : socket_path;
    return Error{"cannot connect to xenstore " + where + ": " + std::strerror(err), err};
  }
  return std::unique_ptr<Client>(new Client(handle));
}

Client::~Client() {
  xs_close(handle_);
}

Result<std::string> Client::read(const std::string& path) {
  return do_read(handle_, XBT_NULL, path);
}

Result<std::vector<std::string>> Client::list(const std::string& path) {
  return do_list(handle_, XBT_NULL, path);
}

Result<void> Client::write(const std::string& path, std::string_view value) {
  return do_write(handle_, XBT_NULL, path, value);
}

Result<void> Client::mkdir(const std::string& path) {
  errno = 0;
  if (!xs_mkdir(handle_, XBT_NULL, path.c_str())) return op_error("mkdir", path);
  return {};
}

Result<void> Client::remove(const std::string& path) {
  return do_remove(handle_, XBT_NULL, path);
}

Result<void> Client::watch(const std::string& path, const std::string& token) {
  errno = 0;
  if (!xs_watch(handle_, path.c_str(), token.c_str())) return op_error("watch", path);
  return {};
}

Result<void> Client::unwatch(const std::string& path, const std::string& token) {
  errno = 0;
  if (!xs_unwatch(handle_, path.c_str(), token.c_str())) return op_error("unwatch", path);
  return {};
}

int Client::watch_fd() {
  return xs_fileno(handle_);
}

std::optional<WatchEvent> Client::next_event() {
  char** event = xs_check_watch(handle_);
  if (!event) return std::nullopt;
  WatchEvent out{event[XS_WATCH_PATH], event[XS_WATCH_TOKEN]};
  std::free(event);
  return out;
}

Result<void> Client::transact(const std::function<Result<void>(Transaction&)>& body,
                              int max_attempts) {
  for (int attempt = 1;; ++attempt) {
    errno = 0;
    xs_transaction_t id = xs_transaction_start(handle_);
    if (id == XBT_NULL) return op_error("transaction_start", "");
    Transaction tx(handle_, id);
    Result<void> result = body(tx);
    if (!result) {
      xs_transaction_end(handle_, id, true);
      return result;
    }
    errno = 0;
    if (xs_transaction_end(handle_, id, false)) return {};
    if (errno != EAGAIN || attempt >= max_attempts) return op_error("transaction_end", "");
  }
}

Result<std::string> Client::domain_path(std::uint32_t domid) {
  errno = 0;
  char* path = xs_get_domain_path(handle_, domid);
  if (!path) return op_error("get_domain_path", std::to_string(domid));
  std::string out(path);
  std::free(path);
  return out;
}

Result<std::string> Transaction::read(const std::string& path) {
  return do_read(handle_, id_, path);
}

Result<std::vector<std::string>> Transaction::list(const std::string& path) {
  return do_list(handle_, id_, path);
}

Result<void> Transaction::write(const std::string& path, std::string_view value) {
  return do_write(handle_, id_, path, value);
}

Result<void> Transaction::remove(const std::string& path) {
  return do_remove(handle_, id_, path);
}

std::string errno_name(int err) {
  switch (err) {
    case EINVAL:
      return "EINVAL";
    case EACCES:
      return "EACCES";
    case EEXIST:
      return "EEXIST";
    case EISDIR:
      return "EISDIR";
    case ENOENT:
      return "ENOENT";
    case ENOMEM:
      return "ENOMEM";
    case ENOSPC:
      return "ENOSPC";
    case EIO:
      return "EIO";
    case ENOTEMPTY:
      return "ENOTEMPTY";
    case ENOSYS:
      return "ENOSYS";
    case EROFS:
      return "EROFS";
    case EBUSY:
      return "EBUSY";
    case EAGAIN:
      return "EAGAIN";
    case EISCONN:
      return "EISCONN";
    case E2BIG:
      return "E2BIG";
    case EPERM:
      return "EPERM";
    case ECONNRESET:
      return "ECONNRESET";
    case EPIPE:
      return "EPIPE";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case EBADF:
      return "EBADF";
    case EFBIG:
      return "EFBIG";
    case ENOTDIR:
      return "ENOTDIR";
    case ENODEV:
      return "ENODEV";
    default:
      return "errno " + std::to_string(err);
  }
}

bool is_connection_error(const Error& error) {
  switch (error.errnum) {
    case EIO:
    case ECONNRESET:
    case EPIPE:
    case ECONNREFUSED:
    case EBADF:
    case ENOTCONN:
    case ESHUTDOWN:
      return true;
    default:
      return false;
  }
}

}  // namespace xenballoon::xenstore
