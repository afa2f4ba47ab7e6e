// --web.config.file on the real daemons: xenballoon-exporter, xenballoond and
// xenballoon-balancer serve HTTPS with basic auth (curl as the client, certificates made at test
// time), refuse plain HTTP, wrong and missing passwords, clients without a required certificate
// and TLS 1.2 when TLS 1.3 is the minimum; SIGHUP takes a new file (users, TLS settings) and keeps
// the old one when the new one is broken; --check-config checks the file; and a real Prometheus
// scrapes the exporter over HTTPS with basic auth.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "guest_env.h"
#include "http_get.h"
#include "process.h"
#include "tls_env.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  return GuestEnv::wait_until(predicate, timeout);
}

std::string user(const char* name, const char* password) {
  return std::string(name) + ":" + password;
}

// A web config with the test server certificate and these users ("name: hash" lines).
std::string web_yaml(const std::string& users, const std::string& more_tls = "") {
  return "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n" + more_tls +
         "basic_auth_users:\n" + users;
}

std::string alice() {
  return "  alice: " + std::string(kTestPasswordHash) + "\n";
}
std::string bob() {
  return "  bob: " + std::string(kNewPasswordHash) + "\n";
}

// A daemon serving HTTPS on a port: curl with the test CA and what else is given.
class Client {
 public:
  Client(const TestCertificates& certs, std::uint16_t port) : certs_(certs), port_(port) {}
  CurlResult get(const std::string& path, std::vector<std::string> args = {}) const {
    args.push_back("--cacert");
    args.push_back(certs_.path("ca.pem"));
    return curl("https://127.0.0.1:" + std::to_string(port_) + path, args);
  }
  int status(const std::string& path, std::vector<std::string> args = {}) const {
    return get(path, std::move(args)).status;
  }
  int as(const std::string& credentials, const std::string& path = "/metrics") const {
    return status(path, {"-u", credentials});
  }
  // Polls until `credentials` get 200 on /metrics.
  bool ready(const std::string& credentials, ChildProcess& process) const {
    return wait_until([&] { return as(credentials) == 200 || !process.running(); }, 10s) &&
           process.running();
  }

 private:
  const TestCertificates& certs_;
  std::uint16_t port_;
};

// SIGHUP, then waits for `count` occurrences of `text` in the log.
bool reload_and_wait(ChildProcess& process, const std::string& log_path, const std::string& text,
                     int count) {
  ::kill(process.pid(), SIGHUP);
  return wait_until(
      [&] {
        const std::string log = slurp(log_path);
        int seen = 0;
        for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
          ++seen;
        }
        return seen >= count;
      },
      10s);
}

// What every daemon must do with its web config on SIGHUP: a broken file keeps the running
// users (one log line), a new file with other users takes effect.
void check_reloads(const TestCertificates& certs, const std::string& web, const Client& client,
                   ChildProcess& process, const std::string& log_path) {
  certs.write("web.yml", web_yaml(alice()) + "  bob: not-a-hash\n");
  REQUIRE(reload_and_wait(process, log_path, "SIGHUP: keeping the running web configuration", 1));
  const std::string log = slurp(log_path);
  const auto refused = log.find("SIGHUP: keeping the running web configuration");
  const std::string line = log.substr(refused, log.find('\n', refused) - refused);
  CHECK_THAT(line, Catch::Contains(web + ":6: basic_auth_users.bob: expected a bcrypt hash"));
  CHECK(client.as(user("alice", kTestPassword)) == 200);

  certs.write("web.yml", web_yaml(bob()));
  REQUIRE(reload_and_wait(process, log_path, "SIGHUP: web configuration reloaded", 1));
  CHECK(client.as(user("alice", kTestPassword)) == 401);
  CHECK(client.as(user("bob", kNewPassword)) == 200);
}

// SIGTERM; true when the process exits with 0 (under the sanitizers: without leaks).
bool stops_cleanly(ChildProcess& process) {
  const int status = process.stop(SIGTERM, 15s);
  return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A balancer configuration for the test: its own port, no pidfile, a dry run.
std::string balancer_yaml(std::uint16_t port) {
  return "web:\n  listen_address: \"127.0.0.1:" + std::to_string(port) +
         "\"\npidfile: \"\"\ndry_run: true\n";
}

}  // namespace

TEST_CASE("The exporter serves HTTPS with basic auth and refuses everything else") {
  TestCertificates certs;
  Xenstored xenstored;
  const std::string web = certs.write("web.yml", web_yaml(alice()));
  const std::string log_path = certs.path("exporter.log");
  const std::uint16_t port = free_port();
  ChildProcess exporter(
      {XENBALLOON_EXPORTER_BIN, "--web.listen-address", "127.0.0.1:" + std::to_string(port),
       "--web.config.file", web, "--log.level", "debug"},
      xenstored.env_for(0), log_path, log_path);
  Client client(certs, port);
  REQUIRE(client.ready(user("alice", kTestPassword), exporter));
  CHECK_THAT(slurp(log_path),
             Catch::Contains("serving metrics on 127.0.0.1:" + std::to_string(port) + " (TLS)"));

  const CurlResult metrics = client.get("/metrics", {"-u", user("alice", kTestPassword)});
  CHECK_THAT(metrics.body, Catch::Contains("xenballoon_exporter_"));
  CHECK(client.as(user("alice", kTestPassword), "/healthz") == 200);
  CHECK(client.as(user("alice", kTestPassword), "/") == 200);
  CHECK(client.as(user("alice", "wrong")) == 401);
  CHECK(client.as(user("mallory", kTestPassword)) == 401);
  for (const std::string path : {"/metrics", "/healthz", "/"}) {
    const CurlResult anonymous = client.get(path, {"-i"});
    CHECK(anonymous.status == 401);
    CHECK_THAT(anonymous.body, Catch::Contains("WWW-Authenticate: Basic realm="));
  }
  CHECK(http_get(port, "/metrics").status == 0);  // plain HTTP to the TLS port
  CHECK(client.status("/metrics",
                      {"-u", user("alice", kTestPassword), "--tlsv1.1", "--tls-max", "1.1"}) == 0);
  CHECK(client.status("/metrics", {"-u", user("alice", kTestPassword), "--tls-max", "1.2"}) == 200);
  CHECK(client.status("/metrics", {"-u", user("alice", kTestPassword), "--tlsv1.3"}) == 200);

  SECTION("SIGHUP: a broken file keeps the old users, new users take effect") {
    check_reloads(certs, web, client, exporter, log_path);
  }

  SECTION("SIGHUP: a client certificate required from now on, then TLS 1.3 only") {
    certs.write("web.yml", web_yaml(alice(),
                                    "  client_auth_type: RequireAndVerifyClientCert\n"
                                    "  client_ca_file: ca.pem\n"));
    REQUIRE(reload_and_wait(exporter, log_path, "SIGHUP: web configuration reloaded", 1));
    const std::vector<std::string> cert = {"--cert", certs.path("client.pem"), "--key",
                                           certs.path("client.key")};
    auto with_cert = [&](std::vector<std::string> more) {
      more.insert(more.end(), cert.begin(), cert.end());
      return more;
    };
    CHECK(client.as(user("alice", kTestPassword)) == 0);
    CHECK(client.status("/metrics", with_cert({"-u", user("alice", kTestPassword)})) == 200);
    CHECK(client.status("/metrics", {"-u", user("alice", kTestPassword), "--cert",
                                     certs.path("rogue.pem"), "--key", certs.path("rogue.key")}) ==
          0);

    certs.write("web.yml", web_yaml(alice(), "  min_version: TLS13\n"));
    REQUIRE(reload_and_wait(exporter, log_path, "SIGHUP: web configuration reloaded", 2));
    CHECK(client.status("/metrics", {"-u", user("alice", kTestPassword), "--tls-max", "1.2"}) == 0);
    CHECK(client.as(user("alice", kTestPassword)) == 200);
  }

  SECTION("SIGHUP: back to plain HTTP without users") {
    certs.write("web.yml", "# nothing: plain HTTP\n");
    REQUIRE(reload_and_wait(exporter, log_path, "SIGHUP: web configuration reloaded", 1));
    CHECK(http_get(port, "/metrics").status == 200);
  }
  CHECK(stops_cleanly(exporter));
}

TEST_CASE("The exporter's --check-config checks --web.config.file and names file and line") {
  TestCertificates certs;
  const std::string good = certs.write("good.yml", web_yaml(alice()));
  CommandResult ok =
      run_command({XENBALLOON_EXPORTER_BIN, "--web.config.file", good, "--check-config"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains(good + ": web configuration is valid"));
  const std::string bad =
      certs.write("bad.yml", web_yaml(alice(), "  key_file: other.key\n  min_version: TLS9\n"));
  CommandResult refused =
      run_command({XENBALLOON_EXPORTER_BIN, "--web.config.file", bad, "--check-config"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains(bad + ":4: tls_server_config.key_file: duplicate key"));
  CHECK_THAT(refused.err, Catch::Contains(bad + ":5: tls_server_config.min_version: expected"));
  const std::string mismatch = certs.write(
      "mismatch.yml", "tls_server_config:\n  cert_file: server.pem\n  key_file: other.key\n");
  refused = run_command({XENBALLOON_EXPORTER_BIN, "--web.config.file", mismatch, "--check-config"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains(mismatch + ":3: tls_server_config.key_file: " +
                                          certs.path("other.key") + " is not the private key"));
  // Without --check-config an invalid file stops the exporter before it serves.
  refused = run_command({XENBALLOON_EXPORTER_BIN, "--web.config.file", mismatch,
                         "--web.listen-address", "127.0.0.1:0"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(run_command({XENBALLOON_EXPORTER_BIN, "--help"}).out,
             Catch::Contains("--web.config.file FILE"));
}

TEST_CASE("xenballoond serves HTTPS with basic auth and reloads its web config on SIGHUP") {
  TestCertificates certs;
  const std::string web = certs.write("web.yml", web_yaml(alice()));
  GuestEnv env;
  env.start_agent({"--web.config.file", web}, /*wait_for_healthz=*/false);
  Client client(certs, env.port());
  REQUIRE(client.ready(user("alice", kTestPassword), env.agent()));
  CHECK_THAT(client.get("/metrics", {"-u", user("alice", kTestPassword)}).body,
             Catch::Contains("xenballoon_balloon_target_bytes"));
  CHECK(client.as(user("alice", "wrong")) == 401);
  CHECK(client.status("/healthz") == 401);
  CHECK(http_get(env.port(), "/metrics").status == 0);
  check_reloads(certs, web, client, env.agent(), env.root() + "/agent.log");

  // --check-config checks the web config too.
  const std::string bad = certs.write("bad.yml", web_yaml("  alice: plain\n"));
  CommandResult refused = run_command({xenballoond_binary(), "--config", env.config_path(),
                                       "--web.config.file", bad, "--check-config"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains(bad + ":5: basic_auth_users.alice: expected a bcrypt"));
  CHECK_THAT(run_command({xenballoond_binary(), "--help"}).out,
             Catch::Contains("--web.config.file FILE"));
  CommandResult ok = run_command({xenballoond_binary(), "--config", env.config_path(),
                                  "--web.config.file", web, "--check-config"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains(web + ": web configuration is valid"));
  CHECK(stops_cleanly(env.agent()));
}

TEST_CASE("xenballoon-balancer serves HTTPS with basic auth and reloads its web config on SIGHUP") {
  TestCertificates certs;
  Xenstored xenstored;
  const std::string web = certs.write("web.yml", web_yaml(alice()));
  const std::uint16_t port = free_port();
  const std::string config = certs.write("balancer.yaml", balancer_yaml(port));
  const std::string log_path = certs.path("balancer.log");
  ChildProcess balancer({XENBALLOON_BALANCER_BIN, "--config", config, "--web.config.file", web,
                         "--target-setter", "xenstore"},
                        xenstored.env_for(0), log_path, log_path);
  Client client(certs, port);
  REQUIRE(client.ready(user("alice", kTestPassword), balancer));
  CHECK_THAT(client.get("/metrics", {"-u", user("alice", kTestPassword)}).body,
             Catch::Contains("xenballoon_balancer_"));
  CHECK(client.as(user("alice", "wrong")) == 401);
  CHECK(http_get(port, "/metrics").status == 0);
  check_reloads(certs, web, client, balancer, log_path);

  CHECK_THAT(run_command({XENBALLOON_BALANCER_BIN, "--help"}).out,
             Catch::Contains("--web.config.file FILE"));
  const std::string bad = certs.write("bad.yml", "tls_server_config:\n  cert_file: absent.pem\n");
  CommandResult refused = run_command(
      {XENBALLOON_BALANCER_BIN, "--config", config, "--web.config.file", bad, "--check-config"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains(bad + ":1: tls_server_config: missing key_file"));
  CHECK_THAT(refused.err, Catch::Contains(bad + ":2: tls_server_config.cert_file: cannot read " +
                                          certs.path("absent.pem")));
  CHECK(stops_cleanly(balancer));
}

TEST_CASE("Prometheus scrapes the exporter over HTTPS with basic auth") {
  TestCertificates certs;
  Xenstored xenstored;
  const std::string web = certs.write("web.yml", web_yaml(alice()));
  const std::uint16_t port = free_port();
  const std::string log_path = certs.path("exporter.log");
  ChildProcess exporter({XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                         "127.0.0.1:" + std::to_string(port), "--web.config.file", web},
                        xenstored.env_for(0), log_path, log_path);
  Client client(certs, port);
  REQUIRE(client.ready(user("alice", kTestPassword), exporter));

  // Two jobs on the same target: the right password, and a wrong one.
  const std::string target = "127.0.0.1:" + std::to_string(port);
  auto job = [&](const std::string& name, const std::string& password) {
    return "  - job_name: " + name +
           "\n    scheme: https\n    tls_config:\n      ca_file: " + certs.path("ca.pem") +
           "\n    basic_auth:\n      username: alice\n      password: " + password +
           "\n    static_configs:\n      - targets: ['" + target + "']\n";
  };
  const std::string prometheus_config = certs.write(
      "prometheus.yml", "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n" +
                            job("secured", kTestPassword) + job("wrong", "nope"));
  fs::create_directories(certs.path("tsdb"));
  const std::uint16_t prometheus_port = free_port();
  ChildProcess prometheus({"prometheus", "--config.file=" + prometheus_config,
                           "--storage.tsdb.path=" + certs.path("tsdb"),
                           "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                          {}, certs.path("prometheus.log"), certs.path("prometheus.log"));
  auto query = [&](const std::string& promql) {
    return curl("http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/query",
                {"--data-urlencode", "query=" + promql})
        .body;
  };
  const bool scraped = wait_until(
      [&] {
        return query("up{job=\"secured\"} == 1").find("\"value\"") != std::string::npos &&
               query("up{job=\"wrong\"} == 0").find("\"value\"") != std::string::npos;
      },
      20s);
  INFO(slurp(certs.path("prometheus.log")));
  REQUIRE(scraped);
  CHECK(query("xenballoon_exporter_scrape_duration_seconds{job=\"secured\"}").find("\"value\"") !=
        std::string::npos);
  const std::string targets =
      curl("http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/targets").body;
  CHECK_THAT(targets, Catch::Contains("401 Unauthorized"));
}

TEST_CASE("TLS needs no libssl.so on disk: the embedded shims answer civetweb's dlopen") {
  // civetweb dlopen()s "libssl.so" and "libcrypto.so", names only libssl-dev installs. The
  // dynamic linker must never search for them: the shims, loaded first, carry those SONAMEs.
  TestCertificates certs;
  Xenstored xenstored;
  const std::string web = certs.write("web.yml", web_yaml(alice()));
  const std::uint16_t port = free_port();
  const std::string log_path = certs.path("exporter.log");
  auto env = xenstored.env_for(0);
  env["LD_DEBUG"] = "libs";
  ChildProcess exporter({XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                         "127.0.0.1:" + std::to_string(port), "--web.config.file", web},
                        env, log_path, log_path);
  Client client(certs, port);
  REQUIRE(client.ready(user("alice", kTestPassword), exporter));
  // civetweb calls SSL_get_peer_certificate (which OpenSSL 3 lacks) on every connection.
  CHECK(client.status("/metrics", {"-u", user("alice", kTestPassword), "--cert",
                                   certs.path("client.pem"), "--key", certs.path("client.key")}) ==
        200);
  CHECK(exporter.running());
  const std::string log = slurp(log_path);
  CHECK_THAT(log, Catch::Contains("find library=libssl.so.3"));  // LD_DEBUG works here
  CHECK_THAT(log, !Catch::Contains("find library=libssl.so ["));
  CHECK_THAT(log, !Catch::Contains("find library=libcrypto.so ["));
}

TEST_CASE("Without a web configuration no OpenSSL is mapped, with one it is") {
  Xenstored xenstored;
  auto maps_openssl = [](ChildProcess& process) {
    return slurp("/proc/" + std::to_string(process.pid()) + "/maps").find("libcrypto.so.3") !=
           std::string::npos;
  };
  TempDir dir;
  const std::uint16_t port = free_port();
  ChildProcess plain(
      {XENBALLOON_EXPORTER_BIN, "--web.listen-address", "127.0.0.1:" + std::to_string(port)},
      xenstored.env_for(0), dir.path() + "/plain.log", dir.path() + "/plain.log");
  REQUIRE(wait_until([&] { return http_get(port, "/metrics").status == 200; }, 10s));
  CHECK_FALSE(maps_openssl(plain));

  TestCertificates certs;
  const std::string web = certs.write("web.yml", "basic_auth_users:\n" + alice());
  const std::uint16_t port2 = free_port();
  ChildProcess secured({XENBALLOON_EXPORTER_BIN, "--web.listen-address",
                        "127.0.0.1:" + std::to_string(port2), "--web.config.file", web},
                       xenstored.env_for(0), dir.path() + "/secured.log",
                       dir.path() + "/secured.log");
  REQUIRE(wait_until([&] { return http_get(port2, "/metrics").status == 401; }, 10s));
  CHECK_FALSE(maps_openssl(secured));  // nothing verified yet
  CHECK(curl("http://127.0.0.1:" + std::to_string(port2) + "/metrics",
             {"-u", user("alice", kTestPassword)})
            .status == 200);
  CHECK(maps_openssl(secured));  // basic auth's cache keys are SHA-256
}
