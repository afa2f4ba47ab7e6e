// A small C++ client over the real libxenstore: value-or-error calls, watches, transactions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/result.h"

struct xs_handle;

namespace xenballoon::xenstore {

struct WatchEvent {
  std::string path;
  std::string token;
};

class Transaction;

// One connection to xenstore. Calls may come from several threads (libxenstore serialises
// them), but a Transaction object belongs to the thread that runs it.
class Client {
 public:
  // Opens like xs_open(): `socket_path` empty means libxenstore's own choice ($XENSTORED_PATH,
  // $XENSTORED_RUNDIR/socket, /var/run/xenstored/socket, then the xenbus device).
  static Result<std::unique_ptr<Client>> open(const std::string& socket_path = "");
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<std::string> read(const std::string& path);
  Result<std::vector<std::string>> list(const std::string& path);
  Result<void> write(const std::string& path, std::string_view value);
  Result<void> mkdir(const std::string& path);
  Result<void> remove(const std::string& path);

  Result<void> watch(const std::string& path, const std::string& token);
  Result<void> unwatch(const std::string& path, const std::string& token);
  // A descriptor that becomes readable when a watch event is pending (for poll/epoll).
  int watch_fd();
  // The next pending watch event, without blocking.
  std::optional<WatchEvent> next_event();

  // Runs `body` in a transaction and commits; retries from scratch on EAGAIN up to
  // `max_attempts` times. An error from `body` aborts the transaction.
  Result<void> transact(const std::function<Result<void>(Transaction&)>& body,
                        int max_attempts = 8);

  Result<std::string> domain_path(std::uint32_t domid);

  xs_handle* native() { return handle_; }

 private:
  explicit Client(xs_handle* handle) : handle_(handle) {}
  xs_handle* handle_;
};

// Operations inside one transaction (see Client::transact).
class Transaction {
 public:
  Result<std::string> read(const std::string& path);
  Result<std::vector<std::string>> list(const std::string& path);
  Result<void> write(const std::string& path, std::string_view value);
  Result<void> remove(const std::string& path);

 private:
  friend class Client;
  Transaction(xs_handle* handle, std::uint32_t id) : handle_(handle), id_(id) {}
  xs_handle* handle_;
  std::uint32_t id_;
};

// "EACCES", "ENOENT" ... for an errno value; used in error messages and metrics labels.
std::string errno_name(int err);

// True for errors after which the connection is unusable and must be reopened.
bool is_connection_error(const Error& error);

}  // namespace xenballoon::xenstore
