// What every xenballoon program that serves HTTP serves besides its metrics: a landing page
// (the program's name, one line on what it is, links to /metrics and /healthz) and /healthz;
// and how each reads and reloads its --web.config.file (TLS, basic auth: http/web_config.h),
// counting the reloads it refuses. The server itself is http/server.h. Thread-safe: the handlers
// copy what they are given, the callbacks they call run on the server's worker threads (they
// must be thread-safe), and the refused-reload counts are atomics of the process.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "xenballoon/http/server.h"
#include "xenballoon/http/web_config.h"
#include "xenballoon/metrics/vocabulary.h"
#include "xenballoon/result.h"

namespace xenballoon::daemon {

// What /healthz answers: 200 with `text` when ok, else 503 with it. A plain value.
struct Health {
  bool ok = true;
  std::string text = "ok\n";
};

// The landing page's HTML: title and heading `program`, then `description` as a paragraph (both
// inserted as given: no markup escaping, pass plain text).
std::string landing_page(std::string_view program, std::string_view description);

// 200, text/html, landing_page().
http::Handler landing_handler(std::string_view program, std::string_view description);
// 200, the Prometheus text format (version 0.0.4), with `render`'s body.
http::Handler metrics_handler(std::function<std::string()> render);
// 200 or 503 as `check` says, text/plain.
http::Handler health_handler(std::function<Health()> check);

// The three routes: "/" (the landing page), "/metrics" and "/healthz"; add more to the map
// before starting the server.
std::map<std::string, http::Handler> standard_routes(std::string_view program,
                                                     std::string_view description,
                                                     std::function<std::string()> render_metrics,
                                                     std::function<Health()> check_health);

// --web.config.file at start: an empty path is plain HTTP without users; else the file read,
// parsed and validated, the error listing every problem with its file and line.
Result<http::WebConfig> load_web_config(const std::string& path);

// SIGHUP: reads `path` again and applies it to `server` (users and headers at once, a restarted
// listener when TLS settings changed). An invalid file is refused with one log line naming every
// problem and counted (ReloadFile::kWeb), and the running web configuration stays. Nothing
// happens for an empty path.
void reload_web_config(http::Server& server, const std::string& path);

// The file a SIGHUP reload refused: the daemon's YAML configuration or its --web.config.file.
enum class ReloadFile { kConfig, kWeb };
// Counts one refused reload of `file` in this process.
void count_reload_error(ReloadFile file);
// `family` (a counter labelled file="config" and file="web") with this process's counts, in the
// Prometheus text format, appended to `out`.
void append_reload_errors(std::string& out, const metrics::Family& family);

}  // namespace xenballoon::daemon
