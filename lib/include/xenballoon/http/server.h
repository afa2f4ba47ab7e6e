// A small HTTP server for /metrics, /healthz and a landing page (civetweb underneath), with the
// web configuration of http/web_config.h: TLS through OpenSSL, basic authentication, extra
// response headers. Thread-safe: handlers run on the worker threads; apply() and serves_tls()
// are for one thread (the daemon's loop).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "xenballoon/http/web_config.h"
#include "xenballoon/result.h"

namespace xenballoon::http {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Handlers run on the server's worker threads and must be thread-safe.
using Handler = std::function<Response()>;

// Serves GET and HEAD for exact paths; everything else gets 404 or 405. With basic_auth_users
// every path (404s included) first needs a known user and its password, else 401.
class Server {
 public:
  // `listen_address` is "[host]:port" as Prometheus exporters write it (":9750",
  // "127.0.0.1:9750", "[::1]:9750"); port 0 picks a free port (see port()). `web` is the web
  // configuration, validated (load_web_config); the default is plain HTTP without users.
  static Result<std::unique_ptr<Server>> start(const std::string& listen_address,
                                               std::map<std::string, Handler> routes,
                                               int worker_threads = 2, WebConfig web = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return port_; }
  bool serves_tls() const;

  // Takes a new (validated) web configuration: users and headers at once, for the next request;
  // a TLS change (settings, or the contents of the certificate, key or CA file) restarts the
  // listener on the same address and port (in-flight requests are cut). When the new listener
  // cannot start, the old configuration is started again and the error says why.
  Result<void> apply(WebConfig web);

  // For a daemon that is about to exit: civetweb's mg_stop() waits for its master thread's
  // 2-second poll, and SIGTERM must be quick. The server is kept (reachable) until the process
  // ends with it.
  static void leave_running_until_exit(std::unique_ptr<Server> server);

  struct Impl;  // civetweb's context and the request state (server.cpp)

 private:
  explicit Server(std::unique_ptr<Impl> impl, std::uint16_t port);
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_;
  int workers_ = 2;
};

// Converts "[host]:port" into civetweb's listening_ports syntax; errors name the address.
Result<std::string> to_civetweb_ports(const std::string& listen_address);

}  // namespace xenballoon::http
