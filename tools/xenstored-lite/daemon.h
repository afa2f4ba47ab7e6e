// The xenstored-lite daemon: one epoll loop serving the xs_wire.h protocol on Unix sockets,
// <rundir>/socket for dom0 and <rundir>/domain/<N>/socket for each introduced guest.
// Single-threaded. It keeps its own epoll loop rather than the project's poll of a few
// descriptors because it serves up to thousands of connections at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "store.h"

namespace xenballoon::xenstored_lite {

struct DaemonOptions {
  std::string rundir;
  std::string dump_path;  // written on SIGUSR1 and at exit when set
  Quotas quotas;
  // A client that does not read its replies is not read from past this much queued output;
  // watch events past twice this much are dropped for it (counted, logged once).
  std::size_t max_queued_output = 4 << 20;
  // A guest reaches xenstored through its kernel's xenbus driver, which holds watches of its own
  // (they count against the domain's quota) and lets a guest program see driver behaviour:
  // duplicate watches and unknown unwatches succeed, a failed watch or a message over
  // kGuestPayloadMax makes libxenstore close its handle. Guest sockets behave that way.
  std::uint32_t guest_kernel_watches = 6;
};

struct Connection;

// Single-threaded; run() returns after SIGTERM/SIGINT. Each request is logged at debug level.
class Daemon {
 public:
  Daemon(DaemonOptions options, std::unique_ptr<Store> store);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Creates the dom0 socket and the signal handling. Errors are returned as text.
  bool start(std::string* error);
  int run();
  // Takes `bytes` as a new connection of domain `domid` would send them, answers every whole
  // message in them as run() does, and returns the replies and watch events queued for that
  // connection; the connection is closed then. No socket: for the fuzz target and tests.
  std::string feed(std::uint32_t domid, std::string_view bytes);

 private:
  struct Watch {
    std::string path;  // absolute, or @special
    std::string token;
    bool relative = false;
  };

  // One request, as its handler sees it: the header fields, the payload and the transaction
  // tx_id names (null when it is 0 or the type ignores it).
  struct Request {
    Connection& conn;
    std::uint32_t type;
    std::uint32_t req_id;
    std::uint32_t tx_id;
    const std::string& payload;
    Transaction* tx;
  };
  // A handler answers the request itself and returns 0, or returns the errno value to answer.
  using Handler = int (Daemon::*)(const Request& req);
  // One row of the message table (see wire_func() in daemon.cpp).
  struct WireFunc {
    const char* name;  // for the log
    Handler handler;   // null: not a request (ENOSYS)
    unsigned flags;    // kFlag* in daemon.cpp
  };
  static const WireFunc* wire_func(std::uint32_t type);

  void accept_on(int listen_fd, std::uint32_t domid);
  void on_readable(Connection& conn);
  // Answers the whole messages buffered in conn.in (all but a partial last one).
  void consume(Connection& conn);
  void on_writable(Connection& conn);
  void process(Connection& conn, std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id,
               const std::string& payload);
  void reply(Connection& conn, std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id,
             std::string_view payload);
  void reply(const Request& req, std::string_view payload);
  void ack(const Request& req);
  void reply_error(Connection& conn, std::uint32_t req_id, std::uint32_t tx_id, int err);
  void send_event(Connection& conn, const std::string& path, const std::string& token);
  void fire(const std::vector<WatchTrigger>& triggers);
  void fire_special(const std::string& name);
  void flush(Connection& conn);
  void update_interest(Connection& conn);
  void close_connection(int fd);
  std::size_t watches_of(std::uint32_t domid) const;

  // The handlers, one per request type.
  int do_read(const Request& req);
  int do_directory(const Request& req);
  int do_directory_part(const Request& req);
  int do_get_perms(const Request& req);
  int do_write(const Request& req);
  int do_mkdir(const Request& req);
  int do_rm(const Request& req);
  int do_set_perms(const Request& req);
  int do_watch(const Request& req);
  int do_unwatch(const Request& req);
  int do_transaction_start(const Request& req);
  int do_transaction_end(const Request& req);
  int do_get_domain_path(const Request& req);
  int do_introduce(const Request& req);
  int do_release(const Request& req);
  int do_is_domain_introduced(const Request& req);
  int do_resume(const Request& req);
  int do_set_target(const Request& req);
  int do_reset_watches(const Request& req);
  int do_control(const Request& req);

  int introduce(std::uint32_t domid);
  int release(std::uint32_t domid);
  std::string domain_socket_path(std::uint32_t domid) const;
  void write_dump();
  void handle_signal();

  DaemonOptions options_;
  std::unique_ptr<Store> store_;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  bool stopping_ = false;
  std::map<int, std::uint32_t> listeners_;            // listen fd -> domid
  std::map<std::uint32_t, int> domain_listener_;      // domid -> listen fd
  std::map<int, std::unique_ptr<Connection>> conns_;  // fd -> connection
  std::map<int, std::vector<Watch>> watches_;         // fd -> watches, in registration order
  std::set<int> dirty_;  // connections with output to flush at the end of the loop iteration
};

}  // namespace xenballoon::xenstored_lite
