#include "xenballoon/http/web_config.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "tls.h"
#include "xenballoon/util/file.h"

namespace xenballoon::http {
namespace {

using strict_yaml::Field;
using strict_yaml::KeyTable;

// RequireClientCert: exporter-toolkit's old name of RequireAnyClientCert.
constexpr std::array<std::pair<std::string_view, ClientAuth>, 6> kClientAuth = {{
    {"NoClientCert", ClientAuth::kNoClientCert},
    {"RequestClientCert", ClientAuth::kRequestClientCert},
    {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
    {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
    {"RequireClientCert", ClientAuth::kRequireAnyClientCert},
}};

constexpr std::array<std::pair<std::string_view, TlsVersion>, 4> kVersions = {{
    {"TLS10", TlsVersion::kTls10},
    {"TLS11", TlsVersion::kTls11},
    {"TLS12", TlsVersion::kTls12},
    {"TLS13", TlsVersion::kTls13},
}};

// Go's curve names (tls.CurveID) and OpenSSL's group names.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kCurves = {{
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
}};

// Headers exporter-toolkit lets a web config set, and the values it allows (empty: any).
const std::map<std::string, std::vector<std::string>>& allowed_headers() {
  static const std::map<std::string, std::vector<std::string>> kHeaders = {
      {"Content-Security-Policy", {}},         {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-Content-Type-Options", {"nosniff"}}, {"X-XSS-Protection", {}},
      {"Strict-Transport-Security", {}},
  };
  return kHeaders;
}

// "a.b" relative to the directory of `source`.
std::string resolve(const std::string& source, const std::string& file) {
  if (file.empty() || file.front() == '/') return file;
  const std::filesystem::path dir = std::filesystem::path(source).parent_path();
  if (dir.empty()) return file;
  return (dir / file).string();
}

class WebConfigReader {
 public:
  WebConfigReader(WebConfig& config, strict_yaml::Reader& reader)
      : config_(config), reader_(reader) {}

  void read(const strict_yaml::Node& root) {
    reader_.read_top_level(root,
                           {
                               {"tls_server_config", [this](const Field& f) { read_tls(f); }},
                               {"http_server_config", reader_.mapping(http_keys())},
                               {"basic_auth_users", [this](const Field& f) { read_users(f); }},
                           });
  }

 private:
  // One of `choices`, quoted or not (Go's YAML reads `"TLS13"` as TLS13 too).
  template <typename Choices, typename T>
  bool choose(const Field& f, const Choices& choices, T& out) {
    std::string expected = "one of";
    for (const auto& choice : choices) {
      expected += (&choice == &choices[0] ? " " : ", ") + std::string(choice.first);
    }
    std::string word;
    if (!f.value.is_scalar()) {
      reader_.fail_expected(f, expected);
      return false;
    }
    (void)reader_.read_string(f, word);
    for (const auto& choice : choices) {
      if (word == choice.first) {
        out = choice.second;
        return true;
      }
    }
    reader_.fail_expected(f, expected);
    return false;
  }

  void read_tls(const Field& f) {
    if (f.value.is_null()) return;  // `tls_server_config:` alone: no TLS
    if (!reader_.read_mapping(f, tls_keys(), "a mapping of keys")) return;
    // exporter-toolkit serves plain HTTP unless one of these is set.
    const bool any = !tls_.cert_file.empty() || !tls_.key_file.empty() ||
                     !tls_.client_ca_file.empty() || client_auth_given_;
    if (!any) return;
    tls_.cert_file = resolve(config_.source_name, tls_.cert_file);
    tls_.key_file = resolve(config_.source_name, tls_.key_file);
    tls_.client_ca_file = resolve(config_.source_name, tls_.client_ca_file);
    config_.tls = tls_;
  }

  KeyTable tls_keys() {
    return {
        {"cert_file", reader_.into(tls_.cert_file)},
        {"key_file", reader_.into(tls_.key_file)},
        {"client_auth_type",
         [this](const Field& f) { client_auth_given_ = choose(f, kClientAuth, tls_.client_auth); }},
        {"client_ca_file", reader_.into(tls_.client_ca_file)},
        {"cipher_suites",
         [this](const Field& f) {
           read_names(f, "a list of cipher suite names", tls_.cipher_suites);
         }},
        {"prefer_server_cipher_suites", reader_.into(tls_.prefer_server_cipher_suites)},
        {"curve_preferences",
         [this](const Field& f) {
           read_names(f, "a list of curve names", tls_.curve_preferences);
         }},
        {"min_version", [this](const Field& f) { choose(f, kVersions, tls_.min_version); }},
        {"max_version",
         [this](const Field& f) {
           TlsVersion v{};
           if (choose(f, kVersions, v)) tls_.max_version = v;
         }},
    };
  }

  // `cipher_suites: []` and `cipher_suites:` are both "none"; names are checked by validate().
  void read_names(const Field& f, std::string_view expected, std::vector<std::string>& out) {
    if (f.value.is_null()) return;
    reader_.read_string_list(f, expected, out);
  }

  KeyTable http_keys() {
    return {
        {"headers", [this](const Field& f) { read_string_map(f, "header", config_.http.headers); }},
        {"http2", reader_.into(config_.http.http2)},
    };
  }

  void read_users(const Field& f) { read_string_map(f, "user", config_.basic_auth_users); }

  // A mapping of arbitrary names to strings (users, headers); each entry's line is remembered
  // under "<path>.<name>". A null value is an empty string (validate() says what is wrong).
  void read_string_map(const Field& f, std::string_view what,
                       std::map<std::string, std::string>& out) {
    if (f.value.is_null()) return;
    if (!f.value.is_mapping()) {
      reader_.fail_expected(f, "a mapping of " + std::string(what) + " names to strings");
      return;
    }
    for (const strict_yaml::Entry& entry : f.value.entries()) {
      if (!entry.key.is_scalar()) {
        reader_.error(
            entry.key.line(), f.path,
            std::string(what) + " names must be strings, got " + reader_.describe(entry.key));
        continue;
      }
      const std::string name = entry.key.text();
      const std::string path = strict_yaml::join_path(f.path, name);
      if (out.count(name) != 0) {
        reader_.error(entry.key.line(), path, "duplicate " + std::string(what));
        continue;
      }
      const Field item{entry.key, entry.value, path};
      reader_.remember(path, item.line());
      std::string value;
      if (entry.value.is_null()) {
        out[name] = "";
      } else if (reader_.read_string(item, value)) {
        out[name] = value;
      }
    }
  }

  WebConfig& config_;
  strict_yaml::Reader& reader_;
  TlsServerConfig tls_;
  bool client_auth_given_ = false;
};

const char* const kBcryptAlphabet =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// "" when `path` can be opened for reading, else "cannot read <path>: <why>".
std::string unreadable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return "cannot read " + path + ": " + std::strerror(errno);
  std::fclose(f);
  return "";
}

}  // namespace

std::string_view to_string(ClientAuth auth) {
  for (const auto& [name, value] : kClientAuth) {
    if (value == auth) return name;
  }
  return "?";
}

std::string_view to_string(TlsVersion version) {
  for (const auto& [name, value] : kVersions) {
    if (value == version) return name;
  }
  return "?";
}

const std::vector<CipherName>& cipher_table() {
  static const std::vector<CipherName> kTable = {
      {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", false},
      {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", false},
      {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", false},
      {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", false},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
      {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
      {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
      {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", false},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", false},
      {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", false},
      {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", false},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", false},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", false},
      {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
      {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", true},
      {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", true},
  };
  return kTable;
}

namespace detail {
std::string openssl_group_name(std::string_view go_name) {
  for (const auto& [go, openssl] : kCurves) {
    if (go == go_name) return std::string(openssl);
  }
  return "";
}
}  // namespace detail

Result<WebConfig> parse_web_config(std::string_view yaml, const std::string& source_name) {
  WebConfig config;
  config.source_name = source_name;
  strict_yaml::Reader reader(source_name, strict_yaml::QuotedScalars::kNamed);
  const std::optional<strict_yaml::Node> root =
      reader.parse_document(yaml, strict_yaml::DocumentRule::kAtMostOne);
  if (root) WebConfigReader(config, reader).read(*root);
  if (reader.error_count() != 0) return Error{format_errors(reader.errors()), EINVAL};
  config.lines = reader.lines();
  return config;
}

std::string bcrypt_hash_problem(std::string_view hash) {
  if (hash.size() < 4 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y')) {
    return "expected a bcrypt hash ($2y$, $2b$ or $2a$)";
  }
  if (hash.size() != 60) {
    return "a bcrypt hash has 60 characters, this one " + std::to_string(hash.size());
  }
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$') {
    return "a bcrypt hash has a two-digit cost after $2?$";
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return "bcrypt cost " + std::to_string(cost) + " is not from 4 to 31";
  if (hash.substr(7).find_first_not_of(kBcryptAlphabet) != std::string_view::npos) {
    return "a bcrypt hash's salt and digest use only ./A-Za-z0-9";
  }
  return "";
}

std::vector<ConfigError> validate(const WebConfig& config) {
  std::vector<ConfigError> errors;
  auto line = [&](std::string_view path) -> int {
    auto it = config.lines.find(path);
    return it == config.lines.end() ? 0 : it->second;
  };
  auto fail = [&](const std::string& path, std::string message) {
    errors.push_back({config.source_name, line(path), path, std::move(message)});
  };
  if (config.tls) {
    const TlsServerConfig& tls = *config.tls;
    const std::string kTls = "tls_server_config";
    if (tls.cert_file.empty()) fail(kTls, "missing cert_file");
    if (tls.key_file.empty()) fail(kTls, "missing key_file");
    bool cert_ok = false, key_ok = false;
    if (!tls.cert_file.empty()) {
      std::string problem = unreadable(tls.cert_file);
      if (problem.empty()) {
        if (std::string bad = detail::certificate_problem(tls.cert_file); !bad.empty()) {
          problem = tls.cert_file + ": " + bad;
        }
      }
      cert_ok = problem.empty();
      if (!cert_ok) fail(kTls + ".cert_file", problem);
    }
    if (!tls.key_file.empty()) {
      std::string problem = unreadable(tls.key_file);
      if (problem.empty()) {
        if (std::string bad = detail::private_key_problem(tls.key_file); !bad.empty()) {
          problem = tls.key_file + ": " + bad;
        }
      }
      key_ok = problem.empty();
      if (!key_ok) fail(kTls + ".key_file", problem);
    }
    if (cert_ok && key_ok && !detail::key_pair_problem(tls.cert_file, tls.key_file).empty()) {
      fail(kTls + ".key_file",
           tls.key_file + " is not the private key of the certificate in " + tls.cert_file);
    }
    if (!tls.client_ca_file.empty()) {
      if (tls.client_auth == ClientAuth::kNoClientCert) {
        fail(kTls + ".client_ca_file",
             "client_ca_file is set but client_auth_type is NoClientCert (no client certificate "
             "is asked for)");
      }
      std::string problem = unreadable(tls.client_ca_file);
      if (problem.empty()) {
        if (std::string bad = detail::certificate_problem(tls.client_ca_file); !bad.empty()) {
          problem = tls.client_ca_file + ": " + bad;
        }
      }
      if (!problem.empty()) fail(kTls + ".client_ca_file", problem);
    }
    if (tls.max_version && *tls.max_version < tls.min_version) {
      fail(kTls + ".max_version", "max_version " + std::string(to_string(*tls.max_version)) +
                                      " is older than min_version " +
                                      std::string(to_string(tls.min_version)));
    }
    for (std::size_t i = 0; i < tls.cipher_suites.size(); ++i) {
      const std::string& name = tls.cipher_suites[i];
      bool known = false;
      for (const CipherName& c : cipher_table()) known = known || c.go == name;
      if (!known) {
        fail(kTls + ".cipher_suites[" + std::to_string(i) + "]",
             "unknown cipher suite \"" + name +
                 "\" (Go names: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
                 "...; see docs/security.md)");
      }
    }
    for (std::size_t i = 0; i < tls.curve_preferences.size(); ++i) {
      if (detail::openssl_group_name(tls.curve_preferences[i]).empty()) {
        fail(kTls + ".curve_preferences[" + std::to_string(i) + "]",
             "unknown curve \"" + tls.curve_preferences[i] +
                 "\" (expected CurveP256, CurveP384, CurveP521 or X25519)");
      }
    }
  }
  for (const auto& [name, value] : config.http.headers) {
    const std::string path = "http_server_config.headers." + name;
    auto allowed = allowed_headers().find(name);
    if (allowed == allowed_headers().end()) {
      fail(path, "header \"" + name +
                     "\" cannot be set (Content-Security-Policy, X-Frame-Options, "
                     "X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security)");
      continue;
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
      fail(path, "a header value is one line");
      continue;
    }
    if (!allowed->second.empty()) {
      bool ok = false;
      std::string choices;
      for (const std::string& v : allowed->second) {
        ok = ok || v == value;
        choices += (choices.empty() ? "" : ", ") + v;
      }
      if (!ok) fail(path, "expected one of " + choices + ", got \"" + value + "\"");
    }
  }
  for (const auto& [user, hash] : config.basic_auth_users) {
    const std::string path = "basic_auth_users." + user;
    if (user.empty() || user.find(':') != std::string::npos) {
      fail(path, "a user name is not empty and has no ':' (basic auth splits at the first ':')");
    }
    if (std::string problem = bcrypt_hash_problem(hash); !problem.empty()) fail(path, problem);
  }
  return errors;
}

Result<WebConfig> load_web_config(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto config = parse_web_config(*text, path);
  if (!config) return config.error();
  auto problems = validate(*config);
  if (!problems.empty()) return Error{format_errors(problems), EINVAL};
  return config;
}

}  // namespace xenballoon::http
