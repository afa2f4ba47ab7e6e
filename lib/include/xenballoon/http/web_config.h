// The web configuration file (--web.config.file) in the Prometheus exporter-toolkit format: TLS
// (tls_server_config), response headers (http_server_config) and basic authentication
// (basic_auth_users, bcrypt hashes). Parsed by the strict YAML reader into a plain struct
// (file:line: key errors, unknown keys refused), then validated apart: the files it names are
// read, the key must match the certificate, every hash must be a bcrypt hash. What is accepted
// and what is not: docs/security.md. Plain values and pure functions (validate() reads files);
// thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/config/config_error.h"
#include "xenballoon/config/strict_yaml.h"
#include "xenballoon/result.h"

namespace xenballoon::http {

// tls_server_config.client_auth_type, Go's tls.ClientAuthType names.
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

// min_version, max_version: TLS10 .. TLS13.
enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

std::string_view to_string(ClientAuth auth);
std::string_view to_string(TlsVersion version);

struct TlsServerConfig {
  // Relative paths are taken from the web config file's directory (as exporter-toolkit does);
  // parse_web_config() stores them resolved.
  std::string cert_file;
  std::string key_file;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  std::string client_ca_file;  // empty: the system's trust store when a client is verified
  TlsVersion min_version = TlsVersion::kTls12;
  std::optional<TlsVersion> max_version;   // none: the newest OpenSSL speaks
  std::vector<std::string> cipher_suites;  // Go names (TLS_ECDHE_RSA_WITH_...); empty: defaults
  bool prefer_server_cipher_suites = true;
  std::vector<std::string> curve_preferences;  // Go names (X25519, CurveP256, ...); empty: defaults

  bool operator==(const TlsServerConfig&) const = default;
};

struct HttpServerConfig {
  bool http2 = true;  // accepted for compatibility; civetweb serves HTTP/1.1 only
  std::map<std::string, std::string> headers;  // added to every response

  bool operator==(const HttpServerConfig&) const = default;
};

struct WebConfig {
  // nullopt: plain HTTP (no tls_server_config, or one naming no certificate, key, CA or client
  // auth type, as exporter-toolkit treats `tls_server_config: {}`).
  std::optional<TlsServerConfig> tls;
  HttpServerConfig http;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash; empty: no auth

  // Where it came from, for validate()'s messages: the file and the line of every key path read
  // ("tls_server_config.cert_file", "basic_auth_users.alice").
  std::string source_name;
  strict_yaml::LineMap lines;

  bool operator==(const WebConfig&) const = default;
  // Whether two configurations need different listeners (anything but the users and headers).
  bool same_listener(const WebConfig& other) const { return tls == other.tls; }
};

// The Go cipher suite names exporter-toolkit (as in Prometheus 2.42) accepts and their OpenSSL
// names; TLS 1.3 suites (TLS_AES_128_GCM_SHA256, ...) map to themselves.
struct CipherName {
  std::string_view go;
  std::string_view openssl;
  bool tls13;
};
const std::vector<CipherName>& cipher_table();

// Parses one document; every syntax, unknown-key and type error at once, each with file:line.
// Relative file names are resolved against the directory of `source_name`.
Result<WebConfig> parse_web_config(std::string_view yaml, const std::string& source_name);

// Checks what parsing cannot: cert_file and key_file both given, readable, PEM, and matching;
// client_ca_file readable with at least one certificate, and only with a client_auth_type that
// asks for a certificate; min_version <= max_version; known ciphers and curves; bcrypt hashes.
std::vector<ConfigError> validate(const WebConfig& config);

// Reads, parses and validates `path`; the error lists every problem.
Result<WebConfig> load_web_config(const std::string& path);

// A bcrypt hash as libcrypt checks it: $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, '$',
// 53 characters of bcrypt's base64. Empty when valid, else what is wrong.
std::string bcrypt_hash_problem(std::string_view hash);

}  // namespace xenballoon::http
