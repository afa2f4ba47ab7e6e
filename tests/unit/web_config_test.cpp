// The web configuration (--web.config.file): promtool check web-config (Prometheus 2.42) and the
// parser agree on every fixture under tests/fixtures/web-config/ (valid/, invalid/; differs/ holds
// what promtool accepts and the parser refuses on purpose, each saying why); every key, every
// error with its line; bcrypt hashes and basic auth with its cache; and an in-process server
// with TLS and users, reconfigured live. Certificates are made at test time.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http_get.h"
#include "process.h"
#include "tls_env.h"
#include "xenballoon/daemon/flags.h"
#include "xenballoon/daemon/web.h"
#include "xenballoon/http/basic_auth.h"
#include "xenballoon/http/server.h"
#include "xenballoon/http/web_config.h"

using namespace xenballoon;
using namespace xenballoon::testing;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(XENBALLOON_FIXTURES) + "/web-config";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> fixtures(const std::string& kind) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kFixtures + "/" + kind)) {
    if (entry.path().extension() == ".yml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// promtool's verdict and ours on one fixture, copied beside the test certificates.
struct Verdicts {
  bool promtool_ok;
  std::string promtool_text;
  Result<http::WebConfig> ours;
};

Verdicts judge(const TestCertificates& certs, const std::string& kind, const std::string& name) {
  const std::string path = certs.write(name, slurp(kFixtures + "/" + kind + "/" + name));
  CommandResult promtool = run_command({"promtool", "check", "web-config", path});
  return {promtool.exit_code == 0, promtool.out + promtool.err, http::load_web_config(path)};
}

// Every problem of a text, or "" when it parses and validates.
std::string problems(const std::string& yaml, const std::string& source = "web.yml") {
  auto parsed = http::parse_web_config(yaml, source);
  if (!parsed) return parsed.error().message;
  return format_errors(http::validate(*parsed));
}

http::WebConfig parse(const std::string& yaml, const std::string& source = "web.yml") {
  auto parsed = http::parse_web_config(yaml, source);
  REQUIRE(parsed);
  return *parsed;
}

std::string tls_yaml(const TestCertificates& certs, const std::string& more = "") {
  return "tls_server_config:\n  cert_file: " + certs.path("server.pem") +
         "\n  key_file: " + certs.path("server.key") + "\n" + more;
}

}  // namespace

TEST_CASE("Every valid fixture passes promtool check web-config and the parser") {
  TestCertificates certs;
  const auto names = fixtures("valid");
  REQUIRE(names.size() >= 10);
  for (const std::string& name : names) {
    INFO(name);
    Verdicts v = judge(certs, "valid", name);
    CHECK(v.promtool_ok);
    INFO(v.promtool_text);
    CHECK(v.ours.ok());
    if (!v.ours) INFO(v.ours.error().message);
  }
}

TEST_CASE("Every invalid fixture is refused by promtool and by the parser with file and line") {
  TestCertificates certs;
  const auto names = fixtures("invalid");
  REQUIRE(names.size() >= 30);
  for (const std::string& name : names) {
    INFO(name);
    Verdicts v = judge(certs, "invalid", name);
    INFO(v.promtool_text);
    CHECK_FALSE(v.promtool_ok);
    REQUIRE_FALSE(v.ours.ok());
    INFO(v.ours.error().message);
    // "<path>:<line>: " starts every message, or a file that cannot be read is named.
    CHECK(v.ours.error().message.rfind(certs.path(name) + ":", 0) == 0);
  }
}

TEST_CASE("Each deliberate difference is accepted by promtool and refused by the parser") {
  TestCertificates certs;
  const auto names = fixtures("differs");
  REQUIRE(names.size() >= 5);
  for (const std::string& name : names) {
    INFO(name);
    CHECK(slurp(kFixtures + "/differs/" + name).rfind("# ", 0) == 0);  // says why
    Verdicts v = judge(certs, "differs", name);
    CHECK(v.promtool_ok);
    CHECK_FALSE(v.ours.ok());
  }
}

TEST_CASE("Every key of the web configuration is read into the struct") {
  TestCertificates certs;
  const std::string path = certs.write("every.yml", slurp(kFixtures + "/valid/tls-every-key.yml"));
  auto loaded = http::load_web_config(path);
  REQUIRE(loaded);
  const http::WebConfig& c = *loaded;
  REQUIRE(c.tls);
  CHECK(c.tls->cert_file == certs.path("server.pem"));  // relative to the file's directory
  CHECK(c.tls->key_file == certs.path("server.key"));
  CHECK(c.tls->client_ca_file == certs.path("ca.pem"));
  CHECK(c.tls->client_auth == http::ClientAuth::kRequireAndVerifyClientCert);
  CHECK(c.tls->cipher_suites ==
        std::vector<std::string>{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                                 "TLS_AES_256_GCM_SHA384"});
  CHECK_FALSE(c.tls->prefer_server_cipher_suites);
  CHECK(c.tls->curve_preferences ==
        std::vector<std::string>{"X25519", "CurveP256", "CurveP384", "CurveP521"});
  CHECK(c.tls->min_version == http::TlsVersion::kTls12);
  CHECK(c.tls->max_version == http::TlsVersion::kTls13);
  CHECK_FALSE(c.http.http2);
  CHECK(c.http.headers == std::map<std::string, std::string>{{"X-Frame-Options", "deny"}});
  CHECK(c.basic_auth_users.size() == 1);
  CHECK(c.basic_auth_users.at("alice") == kTestPasswordHash);
  CHECK(c.lines.at("tls_server_config.min_version") == 12);
  CHECK(c.lines.at("basic_auth_users.alice") == 19);
}

TEST_CASE("Defaults are plain HTTP without users and TLS 1.2 as the oldest version") {
  const http::WebConfig empty = parse("");
  CHECK_FALSE(empty.tls);
  CHECK(empty.basic_auth_users.empty());
  CHECK(empty.http.http2);
  CHECK(parse("tls_server_config: {}\n").tls == std::nullopt);
  CHECK(parse("tls_server_config:\n").tls == std::nullopt);
  CHECK(parse("tls_server_config:\n  min_version: TLS13\n").tls == std::nullopt);
  const http::WebConfig tls = parse("tls_server_config:\n  cert_file: a.pem\n  key_file: a.key\n");
  REQUIRE(tls.tls);
  CHECK(tls.tls->min_version == http::TlsVersion::kTls12);
  CHECK_FALSE(tls.tls->max_version);
  CHECK(tls.tls->prefer_server_cipher_suites);
  CHECK(tls.tls->client_auth == http::ClientAuth::kNoClientCert);
  CHECK(parse("tls_server_config:\n  cert_file: a.pem\n", "/etc/x/web.yml").tls->cert_file ==
        "/etc/x/a.pem");
  CHECK(parse("tls_server_config:\n  cert_file: /abs/a.pem\n", "/etc/x/web.yml").tls->cert_file ==
        "/abs/a.pem");
}

TEST_CASE("Every client auth type and TLS version name is read") {
  const std::vector<std::pair<std::string, http::ClientAuth>> auths = {
      {"NoClientCert", http::ClientAuth::kNoClientCert},
      {"RequestClientCert", http::ClientAuth::kRequestClientCert},
      {"RequireAnyClientCert", http::ClientAuth::kRequireAnyClientCert},
      {"RequireClientCert", http::ClientAuth::kRequireAnyClientCert},
      {"VerifyClientCertIfGiven", http::ClientAuth::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", http::ClientAuth::kRequireAndVerifyClientCert},
  };
  for (const auto& [name, value] : auths) {
    CHECK(parse("tls_server_config:\n  cert_file: a\n  client_auth_type: " + name + "\n")
              .tls->client_auth == value);
  }
  const std::vector<std::pair<std::string, http::TlsVersion>> versions = {
      {"TLS10", http::TlsVersion::kTls10},
      {"TLS11", http::TlsVersion::kTls11},
      {"TLS12", http::TlsVersion::kTls12},
      {"\"TLS13\"", http::TlsVersion::kTls13},
  };
  for (const auto& [name, value] : versions) {
    CHECK(parse("tls_server_config:\n  cert_file: a\n  min_version: " + name + "\n")
              .tls->min_version == value);
    CHECK(parse("tls_server_config:\n  cert_file: a\n  max_version: " + name + "\n")
              .tls->max_version == value);
  }
}

TEST_CASE("Parse errors name the file, the line and the key, all of them at once") {
  const std::string text =
      "tls_server_config:\n"                        // 1
      "  cert_file: a.pem\n"                        // 2
      "  key_fil: a.key\n"                          // 3
      "  min_version: TLS14\n"                      // 4
      "  client_auth_type: [RequestClientCert]\n"   // 5
      "  prefer_server_cipher_suites: sometimes\n"  // 6
      "  cipher_suites: TLS_AES_128_GCM_SHA256\n"   // 7
      "http_server_config:\n"                       // 8
      "  http3: true\n"                             // 9
      "basic_auth_users:\n"                         // 10
      "  alice: $2b$04$x\n"                         // 11
      "  alice: $2b$04$y\n"                         // 12
      "  [bob]: x\n"                                // 13
      "web: {}\n";                                  // 14
  const std::string p = problems(text);
  CHECK_THAT(p, Catch::Contains("web.yml:3: tls_server_config.key_fil: unknown key"));
  CHECK_THAT(p, Catch::Contains("web.yml:4: tls_server_config.min_version: expected one of TLS10, "
                                "TLS11, TLS12, TLS13, got \"TLS14\""));
  CHECK_THAT(p, Catch::Contains("web.yml:5: tls_server_config.client_auth_type: expected one of "
                                "NoClientCert,"));
  CHECK_THAT(p, Catch::Contains("web.yml:6: tls_server_config.prefer_server_cipher_suites:"));
  CHECK_THAT(p, Catch::Contains("web.yml:7: tls_server_config.cipher_suites: expected a list"));
  CHECK_THAT(p, Catch::Contains("web.yml:9: http_server_config.http3: unknown key"));
  CHECK_THAT(p, Catch::Contains("web.yml:12: basic_auth_users.alice: duplicate user"));
  CHECK_THAT(p, Catch::Contains("web.yml:13: basic_auth_users: user names must be strings"));
  CHECK_THAT(p, Catch::Contains("web.yml:14: web: unknown key"));
  CHECK_THAT(problems("basic_auth_users: [alice]\n"),
             Catch::Contains("web.yml:1: basic_auth_users: expected a mapping of user names"));
  CHECK_THAT(problems("- a\n"), Catch::Contains("web.yml:1: expected a mapping of keys"));
  CHECK_THAT(problems("a: [\n"), Catch::StartsWith("web.yml:"));
  CHECK_THAT(problems("a: 1\n---\nb: 2\n"), Catch::Contains("web.yml:3"));
}

TEST_CASE("Validation errors name the file, the line and the key") {
  TestCertificates certs;
  const std::string& dir = certs.dir();
  auto check = [&](const std::string& yaml, const std::string& expected) {
    INFO(yaml);
    const std::string path = certs.write("web.yml", yaml);
    auto loaded = http::load_web_config(path);
    REQUIRE_FALSE(loaded);
    CHECK_THAT(loaded.error().message, Catch::Contains(path + ":" + expected));
  };
  check("tls_server_config:\n  cert_file: server.pem\n", "1: tls_server_config: missing key_file");
  check("tls_server_config:\n  key_file: server.key\n", "1: tls_server_config: missing cert_file");
  check("tls_server_config:\n  client_auth_type: RequireAnyClientCert\n",
        "1: tls_server_config: missing cert_file");
  check("tls_server_config:\n  cert_file: absent.pem\n  key_file: server.key\n",
        "2: tls_server_config.cert_file: cannot read " + dir + "/absent.pem: No such file");
  check("tls_server_config:\n  cert_file: server.pem\n  key_file: absent.key\n",
        "3: tls_server_config.key_file: cannot read " + dir + "/absent.key");
  check("tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n",
        "2: tls_server_config.cert_file: " + dir + "/server.key: no PEM certificate");
  check("tls_server_config:\n  cert_file: server.pem\n  key_file: server.pem\n",
        "3: tls_server_config.key_file: " + dir + "/server.pem: no PEM private key");
  check("tls_server_config:\n  cert_file: server.pem\n  key_file: other.key\n",
        "3: tls_server_config.key_file: " + dir +
            "/other.key is not the private key of the "
            "certificate in " +
            dir + "/server.pem");
  check(tls_yaml(certs, "  client_ca_file: ca.pem\n"),
        "4: tls_server_config.client_ca_file: client_ca_file is set but client_auth_type is "
        "NoClientCert");
  check(tls_yaml(certs, "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: x\n"),
        "5: tls_server_config.client_ca_file: cannot read " + dir + "/x");
  check(tls_yaml(certs,
                 "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: other.key\n"),
        "5: tls_server_config.client_ca_file: " + dir + "/other.key: no PEM certificate");
  check(tls_yaml(certs, "  min_version: TLS13\n  max_version: TLS12\n"),
        "5: tls_server_config.max_version: max_version TLS12 is older than min_version TLS13");
  check(tls_yaml(certs, "  cipher_suites:\n    - TLS_AES_128_GCM_SHA256\n    - AES128-SHA\n"),
        "6: tls_server_config.cipher_suites[1]: unknown cipher suite \"AES128-SHA\"");
  check(tls_yaml(certs, "  curve_preferences: [X25519, X448]\n"),
        "4: tls_server_config.curve_preferences[1]: unknown curve \"X448\"");
  check("http_server_config:\n  headers:\n    Server: x\n",
        "3: http_server_config.headers.Server: header \"Server\" cannot be set");
  check("http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
        "3: http_server_config.headers.X-Frame-Options: expected one of deny, sameorigin, got "
        "\"allow\"");
  check("basic_auth_users:\n  alice: secret\n",
        "2: basic_auth_users.alice: expected a bcrypt hash");
  check("basic_auth_users:\n  alice:\n", "2: basic_auth_users.alice: expected a bcrypt hash");
  check("basic_auth_users:\n  \"a:b\": " + std::string(kTestPasswordHash) + "\n",
        "2: basic_auth_users.a:b: a user name is not empty and has no ':'");
}

TEST_CASE("A web configuration file that cannot be read is an error naming it") {
  auto loaded = http::load_web_config("/nonexistent/web.yml");
  REQUIRE_FALSE(loaded);
  CHECK_THAT(loaded.error().message, Catch::Contains("/nonexistent/web.yml"));
  CHECK(daemon::load_web_config("").ok());  // no flag: plain HTTP
}

TEST_CASE("bcrypt hashes are checked for prefix, length, cost and alphabet") {
  CHECK(http::bcrypt_hash_problem(kTestPasswordHash).empty());
  CHECK(http::bcrypt_hash_problem(kNewPasswordHash).empty());
  const std::string tail = std::string(kTestPasswordHash).substr(7);
  CHECK(http::bcrypt_hash_problem("$2y$04$" + tail).empty());
  CHECK(http::bcrypt_hash_problem("$2a$31$" + tail).empty());
  CHECK_THAT(http::bcrypt_hash_problem("$2x$04$" + tail), Catch::Contains("expected a bcrypt"));
  CHECK_THAT(http::bcrypt_hash_problem("$1$abc$def"), Catch::Contains("expected a bcrypt"));
  CHECK_THAT(http::bcrypt_hash_problem(""), Catch::Contains("expected a bcrypt"));
  CHECK_THAT(http::bcrypt_hash_problem("$2b$04$" + tail + "x"), Catch::Contains("60 characters"));
  CHECK_THAT(http::bcrypt_hash_problem("$2b$04$" + tail.substr(1)), Catch::Contains("60"));
  CHECK_THAT(http::bcrypt_hash_problem("$2b$03$" + tail), Catch::Contains("cost 3"));
  CHECK_THAT(http::bcrypt_hash_problem("$2b$32$" + tail), Catch::Contains("cost 32"));
  CHECK_THAT(http::bcrypt_hash_problem("$2b$x4$" + tail), Catch::Contains("two-digit cost"));
  CHECK_THAT(http::bcrypt_hash_problem("$2b$04$" + tail.substr(1) + "!"),
             Catch::Contains("./A-Za-z0-9"));
}

TEST_CASE("Authorization headers are decoded as Basic user and password") {
  auto c = http::parse_basic_authorization("Basic YWxpY2U6cHc=");  // alice:pw
  REQUIRE(c);
  CHECK(c->first == "alice");
  CHECK(c->second == "pw");
  c = http::parse_basic_authorization("basic   YWxpY2U6YTpi  ");  // alice:a:b
  REQUIRE(c);
  CHECK(c->second == "a:b");
  CHECK_FALSE(http::parse_basic_authorization("Bearer YWxpY2U6cHc="));
  CHECK_FALSE(http::parse_basic_authorization("Basic YWxpY2U="));  // no colon
  CHECK_FALSE(http::parse_basic_authorization("Basic !!!!"));
  CHECK_FALSE(http::parse_basic_authorization("Basic"));
  CHECK_FALSE(http::parse_basic_authorization(""));
}

TEST_CASE("Basic auth accepts the right password only and caches what it verified") {
  http::BasicAuth auth({{"alice", kTestPasswordHash}, {"bob", kNewPasswordHash}});
  CHECK(auth.enabled());
  CHECK_FALSE(auth.verify("alice", "wrong"));
  CHECK_FALSE(auth.verify("carol", kTestPassword));
  CHECK_FALSE(auth.verify("bob", kTestPassword));
  CHECK_FALSE(auth.verify("alice", std::string(kTestPassword) + std::string(1, '\0')));
  CHECK(auth.cached() == 0);  // failures are never cached
  CHECK(auth.verify("alice", kTestPassword));
  CHECK(auth.cached() == 1);
  CHECK(auth.verify("alice", kTestPassword));
  CHECK(auth.cached() == 1);
  CHECK(auth.check("Basic YWxpY2U6dGVzdC1wYXNzd29yZA=="));  // alice:test-password
  CHECK_FALSE(auth.check(nullptr));
  CHECK_FALSE(auth.check("Basic YWxpY2U6d3Jvbmc="));  // alice:wrong
  CHECK(http::BasicAuth().check(nullptr));            // no users: no auth
}

TEST_CASE("The credential cache holds at most a hundred entries") {
  std::map<std::string, std::string> users;
  for (int i = 0; i < 130; ++i) users["user" + std::to_string(i)] = kTestPasswordHash;
  http::BasicAuth auth(users);
  for (int i = 0; i < 130; ++i) CHECK(auth.verify("user" + std::to_string(i), kTestPassword));
  CHECK(auth.cached() == http::BasicAuth::kCacheEntries);
}

TEST_CASE("An unknown user costs a bcrypt run like a known one") {
  // A cost-8 hash (about 20 ms): long enough to measure against the lookup of a name.
  CommandResult hashed = run_command(
      {"python3", "-W", "ignore", "-c",
       "import crypt; print(crypt.crypt('pw', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=256)))"});
  REQUIRE(hashed.exit_code == 0);
  const std::string hash = hashed.out.substr(0, hashed.out.find('\n'));
  REQUIRE(http::bcrypt_hash_problem(hash).empty());
  http::BasicAuth auth({{"alice", hash}});
  // The fastest of three runs: the test shares its cores, a single run may be preempted.
  auto time = [&](const std::string& user) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      const auto start = std::chrono::steady_clock::now();
      CHECK_FALSE(auth.verify(user, "wrong"));
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return best;
  };
  const auto known = time("alice");
  const auto unknown = time("mallory");
  CHECK(unknown * 3 > known);
  CHECK(known * 3 > unknown);
  CHECK(auth.verify("alice", "pw"));
}

TEST_CASE("A server with TLS and users serves only authenticated HTTPS and takes new users live") {
  TestCertificates certs;
  const std::string path = certs.write(
      "web.yml", tls_yaml(certs, "basic_auth_users:\n  alice: " + std::string(kTestPasswordHash) +
                                     "\nhttp_server_config:\n  headers:\n    X-Frame-Options: "
                                     "deny\n"));
  auto web = http::load_web_config(path);
  REQUIRE(web);
  auto server = http::Server::start("127.0.0.1:0",
                                    {{"/metrics",
                                      [] {
                                        return http::Response{200, "text/plain", "up 1\n"};
                                      }}},
                                    2, *web);
  REQUIRE(server);
  REQUIRE((*server)->serves_tls());
  const std::uint16_t port = (*server)->port();
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/metrics";
  const std::vector<std::string> ca = {"--cacert", certs.path("ca.pem")};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), ca.begin(), ca.end());
    return more;
  };
  CHECK(curl(url, with({"-u", std::string("alice:") + kTestPassword})).status == 200);
  CHECK(curl(url, with({"-u", std::string("alice:") + kTestPassword})).body == "up 1\n");
  CHECK(curl(url, with({"-u", "alice:wrong"})).status == 401);
  const CurlResult anonymous = curl(url, with({"-i"}));
  CHECK(anonymous.status == 401);
  CHECK_THAT(anonymous.body, Catch::Contains("WWW-Authenticate: Basic realm=\"xenballoon\""));
  CHECK_THAT(anonymous.body, Catch::Contains("X-Frame-Options: deny"));
  CHECK(curl("https://127.0.0.1:" + std::to_string(port) + "/nothing", with({})).status == 401);
  CHECK(http_get(port, "/metrics").status == 0);  // plain HTTP to the TLS port

  // New users at once, same listener.
  http::WebConfig next = *web;
  next.basic_auth_users = {{"bob", kNewPasswordHash}};
  REQUIRE((*server)->apply(next));
  CHECK(curl(url, with({"-u", std::string("alice:") + kTestPassword})).status == 401);
  CHECK(curl(url, with({"-u", std::string("bob:") + kNewPassword})).status == 200);

  // A TLS change restarts the listener on the same port: now a client certificate is required.
  next.tls->client_auth = http::ClientAuth::kRequireAndVerifyClientCert;
  next.tls->client_ca_file = certs.path("ca.pem");
  REQUIRE((*server)->apply(next));
  CHECK((*server)->port() == port);
  CHECK(curl(url, with({"-u", std::string("bob:") + kNewPassword})).status == 0);
  CHECK(curl(url, with({"-u", std::string("bob:") + kNewPassword, "--cert",
                        certs.path("client.pem"), "--key", certs.path("client.key")}))
            .status == 200);
  CHECK(curl(url, with({"-u", std::string("bob:") + kNewPassword, "--cert", certs.path("rogue.pem"),
                        "--key", certs.path("rogue.key")}))
            .status == 0);

  // Back to plain HTTP without users.
  REQUIRE((*server)->apply(http::WebConfig{}));
  CHECK_FALSE((*server)->serves_tls());
  CHECK(http_get(port, "/metrics").status == 200);
}

TEST_CASE("Each client auth type asks for, requires and verifies certificates as Go does") {
  TestCertificates certs;
  const std::string ca_file = certs.path("ca.pem");
  const std::vector<std::string> good = {"--cert", certs.path("client.pem"), "--key",
                                         certs.path("client.key")};
  const std::vector<std::string> rogue = {"--cert", certs.path("rogue.pem"), "--key",
                                          certs.path("rogue.key")};
  struct Case {
    http::ClientAuth auth;
    bool none_ok, good_ok, rogue_ok;
  };
  const std::vector<Case> cases = {
      {http::ClientAuth::kNoClientCert, true, true, true},
      {http::ClientAuth::kRequestClientCert, true, true, true},
      {http::ClientAuth::kRequireAnyClientCert, false, true, true},
      {http::ClientAuth::kVerifyClientCertIfGiven, true, true, false},
      {http::ClientAuth::kRequireAndVerifyClientCert, false, true, false},
  };
  http::WebConfig web;
  web.tls = http::TlsServerConfig{};
  web.tls->cert_file = certs.path("server.pem");
  web.tls->key_file = certs.path("server.key");
  auto server = http::Server::start("127.0.0.1:0",
                                    {{"/",
                                      [] {
                                        return http::Response{200, "text/plain", "ok\n"};
                                      }}},
                                    1, web);
  REQUIRE(server);
  const std::string url = "https://127.0.0.1:" + std::to_string((*server)->port()) + "/";
  for (const Case& c : cases) {
    INFO(http::to_string(c.auth));
    web.tls->client_auth = c.auth;
    web.tls->client_ca_file = c.auth == http::ClientAuth::kNoClientCert ? "" : ca_file;
    REQUIRE((*server)->apply(web));
    auto status = [&](std::vector<std::string> more) {
      more.push_back("--cacert");
      more.push_back(ca_file);
      return curl(url, more).status;
    };
    CHECK((status({}) == 200) == c.none_ok);
    CHECK((status(good) == 200) == c.good_ok);
    CHECK((status(rogue) == 200) == c.rogue_ok);
  }
}

TEST_CASE("Protocol versions and cipher suites are those configured") {
  TestCertificates certs;
  http::WebConfig web;
  web.tls = http::TlsServerConfig{};
  web.tls->cert_file = certs.path("server.pem");
  web.tls->key_file = certs.path("server.key");
  web.tls->min_version = http::TlsVersion::kTls13;
  auto server = http::Server::start("127.0.0.1:0",
                                    {{"/",
                                      [] {
                                        return http::Response{200, "text/plain", "ok\n"};
                                      }}},
                                    1, web);
  REQUIRE(server);
  const std::string url = "https://127.0.0.1:" + std::to_string((*server)->port()) + "/";
  const std::vector<std::string> ca = {"--cacert", certs.path("ca.pem")};
  auto status = [&](std::vector<std::string> more) {
    more.insert(more.end(), ca.begin(), ca.end());
    return curl(url, more).status;
  };
  CHECK(status({}) == 200);
  CHECK(status({"--tls-max", "1.2"}) == 0);  // min_version TLS13

  web.tls->min_version = http::TlsVersion::kTls12;
  web.tls->max_version = http::TlsVersion::kTls12;
  web.tls->cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
  web.tls->curve_preferences = {"CurveP384"};
  REQUIRE((*server)->apply(web));
  CHECK(status({"--tls-max", "1.2"}) == 200);
  CHECK(status({"--tlsv1.3"}) == 0);  // max_version TLS12
  CHECK(status({"--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"}) == 0);
  CHECK(status({"--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"}) == 200);
  CHECK(status({"--curves", "P-256"}) == 0);
  // The client offers P-256 too: the server's certificate is on that curve.
  CHECK(status({"--curves", "P-384:P-256"}) == 200);
  CHECK(status({"--tlsv1.1", "--tls-max", "1.1"}) == 0);

  web.tls->max_version.reset();
  web.tls->cipher_suites = {"TLS_CHACHA20_POLY1305_SHA256"};
  web.tls->curve_preferences.clear();
  REQUIRE((*server)->apply(web));
  CHECK(status({"--tls13-ciphers", "TLS_AES_128_GCM_SHA256"}) == 0);
  CHECK(status({"--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"}) == 200);
}

TEST_CASE("A certificate renewed under the same file name is served after a reload") {
  TestCertificates certs;
  http::WebConfig web;
  web.tls = http::TlsServerConfig{};
  web.tls->cert_file = certs.path("live.pem");
  web.tls->key_file = certs.path("live.key");
  certs.write("live.pem", slurp(certs.path("rogue.pem")));  // self-signed: curl refuses it
  certs.write("live.key", slurp(certs.path("rogue.key")));
  auto server = http::Server::start("127.0.0.1:0",
                                    {{"/",
                                      [] {
                                        return http::Response{200, "text/plain", "ok\n"};
                                      }}},
                                    1, web);
  REQUIRE(server);
  const std::string url = "https://127.0.0.1:" + std::to_string((*server)->port()) + "/";
  CHECK(curl(url, {"--cacert", certs.path("ca.pem")}).status == 0);
  certs.write("live.pem", slurp(certs.path("server.pem")));
  certs.write("live.key", slurp(certs.path("server.key")));
  REQUIRE((*server)->apply(web));  // the same settings, new file contents
  CHECK(curl(url, {"--cacert", certs.path("ca.pem")}).status == 200);
}

TEST_CASE("A TLS listener that cannot start leaves the previous configuration serving") {
  TestCertificates certs;
  auto server = http::Server::start("127.0.0.1:0",
                                    {{"/",
                                      [] {
                                        return http::Response{200, "text/plain", "ok\n"};
                                      }}},
                                    1);
  REQUIRE(server);
  http::WebConfig broken;
  broken.tls = http::TlsServerConfig{};
  broken.tls->cert_file = certs.path("server.pem");
  broken.tls->key_file = certs.path("other.key");  // validate() would refuse it
  auto applied = (*server)->apply(broken);
  REQUIRE_FALSE(applied);
  CHECK_THAT(applied.error().message, Catch::Contains("serving with the previous"));
  CHECK_FALSE((*server)->serves_tls());
  CHECK(http_get((*server)->port(), "/").status == 200);
}

TEST_CASE("The shared flags take --web.config.file for the programs that enable it") {
  daemon::Flags flags("prog", "usage\n");
  flags.listen_address(":1").web_config_file();
  std::vector<std::string> args = {"prog", "--web.config.file=/etc/web.yml", "--web.listen", ":2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  CHECK_FALSE(flags.parse(static_cast<int>(argv.size()), argv.data()));
  CHECK(flags.common().web_config_file == "/etc/web.yml");
  CHECK(flags.common().listen_address == ":2");

  daemon::Flags without("prog", "usage\n");
  std::vector<std::string> args2 = {"prog", "--web.config.file", "x"};
  std::vector<char*> argv2;
  for (auto& a : args2) argv2.push_back(a.data());
  std::FILE* null = std::fopen("/dev/null", "w");
  CHECK(without.parse(static_cast<int>(argv2.size()), argv2.data(), null, null) == 2);
  std::fclose(null);
}
