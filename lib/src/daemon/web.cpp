#include "xenballoon/daemon/web.h"

#include <atomic>
#include <utility>

#include "xenballoon/metrics/text_writer.h"
#include "xenballoon/util/log.h"

namespace xenballoon::daemon {
namespace {

std::atomic<std::uint64_t> reload_errors[2];  // by ReloadFile

}  // namespace

void count_reload_error(ReloadFile file) {
  reload_errors[static_cast<int>(file)].fetch_add(1, std::memory_order_relaxed);
}

void append_reload_errors(std::string& out, const metrics::Family& family) {
  metrics::append_header(out, family);
  for (const auto& [file, label] :
       {std::pair{ReloadFile::kConfig, "config"}, std::pair{ReloadFile::kWeb, "web"}}) {
    out += std::string(family.name) + "{file=\"" + label + "\"} ";
    metrics::append_number(out, reload_errors[static_cast<int>(file)].load());
    out += '\n';
  }
}

std::string landing_page(std::string_view program, std::string_view description) {
  const std::string name(program);
  return "<!DOCTYPE html>\n<html><head><title>" + name + "</title></head>\n<body><h1>" + name +
         "</h1>\n<p>" + std::string(description) +
         "</p>\n<ul><li><a href=\"/metrics\">Metrics</a></li><li><a "
         "href=\"/healthz\">Health</a></li></ul>\n</body></html>\n";
}

http::Handler landing_handler(std::string_view program, std::string_view description) {
  return [page = landing_page(program, description)] {
    return http::Response{200, "text/html; charset=utf-8", page};
  };
}

http::Handler metrics_handler(std::function<std::string()> render) {
  return [render = std::move(render)] {
    return http::Response{200, "text/plain; version=0.0.4; charset=utf-8", render()};
  };
}

http::Handler health_handler(std::function<Health()> check) {
  return [check = std::move(check)] {
    Health health = check();
    return http::Response{health.ok ? 200 : 503, "text/plain; charset=utf-8",
                          std::move(health.text)};
  };
}

std::map<std::string, http::Handler> standard_routes(std::string_view program,
                                                     std::string_view description,
                                                     std::function<std::string()> render_metrics,
                                                     std::function<Health()> check_health) {
  std::map<std::string, http::Handler> routes;
  routes["/"] = landing_handler(program, description);
  routes["/metrics"] = metrics_handler(std::move(render_metrics));
  routes["/healthz"] = health_handler(std::move(check_health));
  return routes;
}

Result<http::WebConfig> load_web_config(const std::string& path) {
  if (path.empty()) return http::WebConfig{};
  return http::load_web_config(path);
}

void reload_web_config(http::Server& server, const std::string& path) {
  if (path.empty()) return;
  auto loaded = http::load_web_config(path);
  if (!loaded) {
    std::string problems = loaded.error().message;
    for (char& c : problems) {
      if (c == '\n') c = ' ';
    }
    log::error("SIGHUP: keeping the running web configuration; " + path +
               " is invalid: " + problems);
    count_reload_error(ReloadFile::kWeb);
    return;
  }
  const bool tls = loaded->tls.has_value();
  const std::size_t users = loaded->basic_auth_users.size();
  if (auto applied = server.apply(std::move(*loaded)); !applied) {
    log::error("SIGHUP: web configuration " + path + " not applied: " + applied.error().message);
    count_reload_error(ReloadFile::kWeb);
    return;
  }
  log::info("SIGHUP: web configuration reloaded from " + path + " (" +
            (tls ? "TLS" : "plain HTTP") + ", " +
            (users == 0 ? std::string("no basic auth") : std::to_string(users) + " users") + ")");
}

}  // namespace xenballoon::daemon
