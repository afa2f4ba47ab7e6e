#include "xenballoon/http/server.h"

#include <civetweb.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "xenballoon/util/parse.h"

namespace xenballoon::http {

struct Server::Impl {
  mg_context* ctx = nullptr;
  std::map<std::string, Handler> routes;
  ~Impl() {
    if (ctx) mg_stop(ctx);
  }
};

namespace {

void send(mg_connection* conn, const Response& response, bool head) {
  const char* reason = response.status == 200   ? "OK"
                       : response.status == 404 ? "Not Found"
                       : response.status == 405 ? "Method Not Allowed"
                       : response.status == 503 ? "Service Unavailable"
                                                : "Error";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            response.status, reason, response.content_type.c_str(), response.body.size());
  if (!head) mg_write(conn, response.body.data(), response.body.size());
}

int handle(mg_connection* conn, void* data) {
  auto* routes = static_cast<const std::map<std::string, Handler>*>(data);
  const mg_request_info* info = mg_get_request_info(conn);
  bool head = info->request_method && std::strcmp(info->request_method, "HEAD") == 0;
  bool get = info->request_method && std::strcmp(info->request_method, "GET") == 0;
  std::string path = info->local_uri ? info->local_uri : "";
  auto route = routes->find(path);
  if (route == routes->end()) {
    send(conn, {404, "text/plain; charset=utf-8", "404 page not found\n"}, head);
    return 404;
  }
  if (!get && !head) {
    send(conn, {405, "text/plain; charset=utf-8", "only GET and HEAD are allowed\n"}, false);
    return 405;
  }
  Response response;
  try {
    response = route->second();
  } catch (const std::exception& e) {
    response = {500, "text/plain; charset=utf-8",
                std::string("internal error: ") + e.what() + "\n"};
  }
  send(conn, response, head);
  return response.status;
}

}  // namespace

Result<std::string> to_civetweb_ports(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Error{"listen address \"" + address + "\": expected [host]:port", EINVAL};
  }
  std::string host = address.substr(0, colon);
  auto port = parse_u64(address.substr(colon + 1));
  if (!port || *port > 65535) {
    return Error{"listen address \"" + address + "\": port must be a number from 0 to 65535",
                 EINVAL};
  }
  if (host.empty()) return std::to_string(*port);
  if (host.front() == '[' && host.back() == ']') return host + ":" + std::to_string(*port);
  if (host.find(':') != std::string::npos) {
    return Error{"listen address \"" + address + "\": write IPv6 hosts in brackets", EINVAL};
  }
  if (host == "localhost") host = "127.0.0.1";
  return host + ":" + std::to_string(*port);
}

Result<std::unique_ptr<Server>> Server::start(const std::string& listen_address,
                                              std::map<std::string, Handler> routes,
                                              int worker_threads) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { mg_init_library(0); });
  auto ports = to_civetweb_ports(listen_address);
  if (!ports) return ports.error();
  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  std::string threads = std::to_string(worker_threads < 1 ? 1 : worker_threads);
  const char* options[] = {
      "listening_ports", ports->c_str(),      "num_threads", threads.c_str(), "request_timeout_ms",
      "10000",           "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks{};
  char error_text[256] = "";
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.configuration_options = options;
  mg_error_data error{};
  error.text = error_text;
  error.text_buffer_size = sizeof error_text;
  impl->ctx = mg_start2(&init, &error);
  if (!impl->ctx) {
    return Error{"cannot listen on " + listen_address + ": " +
                     (error_text[0] ? error_text : "civetweb failed to start"),
                 EADDRINUSE};
  }
  mg_set_request_handler(impl->ctx, "/", handle, &impl->routes);
  mg_server_port bound[4];
  int n = mg_get_server_ports(impl->ctx, 4, bound);
  std::uint16_t port = n > 0 ? static_cast<std::uint16_t>(bound[0].port) : 0;
  return std::unique_ptr<Server>(new Server(std::move(impl), port));
}

Server::Server(std::unique_ptr<Impl> impl, std::uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

Server::~Server() = default;

void Server::leave_running_until_exit(std::unique_ptr<Server> server) {
  static auto* kept = new std::vector<std::unique_ptr<Server>>();
  kept->push_back(std::move(server));
}

}  // namespace xenballoon::http
