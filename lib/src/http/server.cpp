#include "xenballoon/http/server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "tls.h"
#include "xenballoon/http/basic_auth.h"
#include "xenballoon/util/file.h"
#include "xenballoon/util/log.h"
#include "xenballoon/util/parse.h"

namespace xenballoon::http {

namespace {

// What a request is checked and answered with; replaced whole by apply().
struct Policy {
  Policy(std::map<std::string, std::string> users, std::string headers)
      : auth(std::move(users)), extra_headers(std::move(headers)) {}
  BasicAuth auth;
  std::string extra_headers;  // "Name: value\r\n" lines from http_server_config.headers
};

std::shared_ptr<const Policy> make_policy(const WebConfig& web) {
  std::string headers;
  for (const auto& [name, value] : web.http.headers) headers += name + ": " + value + "\r\n";
  return std::make_shared<const Policy>(web.basic_auth_users, std::move(headers));
}

}  // namespace

struct Server::Impl {
  mg_context* ctx = nullptr;
  std::map<std::string, Handler> routes;
  std::string listen_address;
  WebConfig web;            // what the running listener was started with; the loop's thread only
  std::string tls_files;    // the certificate, key and CA files' contents it was started with
  std::string tls_problem;  // set by init_ssl while mg_start2 runs
  mutable std::mutex mutex;
  std::shared_ptr<const Policy> policy;

  std::shared_ptr<const Policy> current() const {
    std::lock_guard lock(mutex);
    return policy;
  }
  void set_policy(const WebConfig& config) {
    auto next = make_policy(config);
    std::lock_guard lock(mutex);
    policy = std::move(next);
  }
  void stop();
  ~Impl() { stop(); }
};

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

void send(mg_connection* conn, const Response& response, bool head, const Policy& policy,
          const char* extra = "") {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\n%s%sConnection: close\r\n\r\n",
            response.status, reason_phrase(response.status), response.content_type.c_str(),
            response.body.size(), policy.extra_headers.c_str(), extra);
  if (!head) mg_write(conn, response.body.data(), response.body.size());
}

int handle(mg_connection* conn, void* data) {
  auto* impl = static_cast<const Server::Impl*>(data);
  const std::shared_ptr<const Policy> policy = impl->current();
  const mg_request_info* info = mg_get_request_info(conn);
  bool head = info->request_method && std::strcmp(info->request_method, "HEAD") == 0;
  bool get = info->request_method && std::strcmp(info->request_method, "GET") == 0;
  if (policy->auth.enabled() && !policy->auth.check(mg_get_header(conn, "Authorization"))) {
    send(conn, {401, "text/plain; charset=utf-8", "Unauthorized\n"}, head, *policy,
         "WWW-Authenticate: Basic realm=\"xenballoon\", charset=\"UTF-8\"\r\n");
    return 401;
  }
  std::string path = info->local_uri ? info->local_uri : "";
  auto route = impl->routes.find(path);
  if (route == impl->routes.end()) {
    send(conn, {404, "text/plain; charset=utf-8", "404 page not found\n"}, head, *policy);
    return 404;
  }
  if (!get && !head) {
    send(conn, {405, "text/plain; charset=utf-8", "only GET and HEAD are allowed\n"}, false,
         *policy);
    return 405;
  }
  Response response;
  try {
    response = route->second();
  } catch (const std::exception& e) {
    response = {500, "text/plain; charset=utf-8",
                std::string("internal error: ") + e.what() + "\n"};
  }
  send(conn, response, head, *policy);
  return response.status;
}

// civetweb's own messages (a failed handshake, a client that went away): debug only, they come
// once per connection.
int log_message(const mg_connection* /*conn*/, const char* message) {
  if (message) log::debug(std::string("civetweb: ") + message);
  return 1;
}

// Called by civetweb with its new server SSL_CTX: 1 when configured, -1 to fail mg_start2.
int init_ssl(void* ssl_ctx, void* user_data) {
  auto* impl = static_cast<Server::Impl*>(user_data);
  if (!impl->web.tls) return 0;
  auto configured = detail::configure_ssl_ctx(ssl_ctx, *impl->web.tls);
  if (!configured) {
    impl->tls_problem = configured.error().message;
    return -1;
  }
  return 1;
}

// What a listener read from the files its TLS settings name: a renewed certificate under the same
// name needs a restart too.
std::string tls_files_of(const WebConfig& web) {
  if (!web.tls) return "";
  std::string all;
  for (const std::string* path :
       {&web.tls->cert_file, &web.tls->key_file, &web.tls->client_ca_file}) {
    auto text = read_file(*path);
    all += (text ? *text : std::string()) + '\0';
  }
  return all;
}

// Starts civetweb for impl->web on `listen_address` (a bound port replaces port 0 on restarts).
Result<std::uint16_t> start_context(Server::Impl& impl, int worker_threads, std::uint16_t port) {
  std::string address = impl.listen_address;
  if (port != 0) address = address.substr(0, address.rfind(':') + 1) + std::to_string(port);
  auto ports = to_civetweb_ports(address);
  if (!ports) return ports.error();
  if (impl.web.tls) {
    if (auto enabled = detail::enable_civetweb_tls(); !enabled) {
      return Error{"cannot serve TLS on " + impl.listen_address + ": " + enabled.error().message,
                   ENOTSUP};
    }
    *ports += "s";
  }
  std::string threads = std::to_string(worker_threads < 1 ? 1 : worker_threads);
  std::vector<const char*> options = {
      "listening_ports",    ports->c_str(), "num_threads",       threads.c_str(),
      "request_timeout_ms", "10000",        "enable_keep_alive", "no"};
  options.push_back(nullptr);
  mg_callbacks callbacks{};
  callbacks.log_message = log_message;
  callbacks.init_ssl = init_ssl;
  char error_text[256] = "";
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = &impl;
  init.configuration_options = options.data();
  mg_error_data error{};
  error.text = error_text;
  error.text_buffer_size = sizeof error_text;
  impl.tls_problem.clear();
  impl.tls_files = tls_files_of(impl.web);
  impl.ctx = mg_start2(&init, &error);
  if (!impl.ctx) {
    std::string why = !impl.tls_problem.empty() ? impl.tls_problem
                      : error_text[0]           ? error_text
                                                : "civetweb failed to start";
    return Error{"cannot listen on " + impl.listen_address + ": " + why, EADDRINUSE};
  }
  mg_set_request_handler(impl.ctx, "/", handle, &impl);
  mg_server_port bound[4];
  int n = mg_get_server_ports(impl.ctx, 4, bound);
  return static_cast<std::uint16_t>(n > 0 ? bound[0].port : 0);
}

int worker_count(int requested) {
  return requested < 1 ? 1 : requested;
}

// Where a client reaches a listener of `listen_address` on `port`: its host, or loopback for a
// wildcard. False when the host is not a literal address.
bool loopback_for(const std::string& listen_address, std::uint16_t port, sockaddr_storage& out,
                  socklen_t& length) {
  std::string host = listen_address.substr(0, listen_address.rfind(':'));
  if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host == "::") host = "::1";
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    length = sizeof *in6;
    return ::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1;
  }
  if (host.empty() || host == "0.0.0.0" || host == "localhost") host = "127.0.0.1";
  auto* in = reinterpret_cast<sockaddr_in*>(&out);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  length = sizeof *in;
  return ::inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1;
}

}  // namespace

// mg_stop() waits for civetweb's master thread, which sees the stop flag only when its poll of
// the listening sockets returns: up to 2 s. Connections made meanwhile wake it at once.
void Server::Impl::stop() {
  if (!ctx) return;
  mg_server_port bound[4];
  const int n = mg_get_server_ports(ctx, 4, bound);
  sockaddr_storage address{};
  socklen_t length = 0;
  const bool can_wake =
      n > 0 &&
      loopback_for(listen_address, static_cast<std::uint16_t>(bound[0].port), address, length);
  std::atomic<bool> stopped{false};
  std::thread waker;
  if (can_wake) {
    waker = std::thread([&] {
      while (!stopped.load()) {
        const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
          (void)::connect(fd, reinterpret_cast<const sockaddr*>(&address), length);
          ::close(fd);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  mg_stop(ctx);
  ctx = nullptr;
  stopped = true;
  if (waker.joinable()) waker.join();
}

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
                                              int worker_threads, WebConfig web) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { mg_init_library(0); });
  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  impl->listen_address = listen_address;
  impl->web = std::move(web);
  impl->set_policy(impl->web);
  auto port = start_context(*impl, worker_count(worker_threads), 0);
  if (!port) return port.error();
  auto server = std::unique_ptr<Server>(new Server(std::move(impl), *port));
  server->workers_ = worker_count(worker_threads);
  return server;
}

bool Server::serves_tls() const {
  return impl_->web.tls.has_value();
}

Result<void> Server::apply(WebConfig web) {
  if (web.same_listener(impl_->web) && tls_files_of(web) == impl_->tls_files) {
    impl_->set_policy(web);
    impl_->web = std::move(web);
    return {};
  }
  WebConfig old = std::move(impl_->web);
  impl_->stop();
  impl_->web = std::move(web);
  auto started = start_context(*impl_, workers_, port_);
  if (started) {
    impl_->set_policy(impl_->web);
    return {};
  }
  impl_->web = std::move(old);
  auto again = start_context(*impl_, workers_, port_);
  return Error{started.error().message +
               (again ? std::string("; serving with the previous web configuration")
                      : "; the previous one failed too: " + again.error().message)};
}

Server::Server(std::unique_ptr<Impl> impl, std::uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

Server::~Server() = default;

void Server::leave_running_until_exit(std::unique_ptr<Server> server) {
  static auto* kept = new std::vector<std::unique_ptr<Server>>();
  kept->push_back(std::move(server));
}

}  // namespace xenballoon::http
