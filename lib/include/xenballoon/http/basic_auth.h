// HTTP basic authentication against bcrypt hashes (libcrypt's crypt_rn), as exporter-toolkit's
// basic_auth_users does it: constant-time comparison, an unknown user costs the same bcrypt run
// as a known one (a configured user's hash is checked and ignored: no enumeration by timing), and
// a small bounded cache of verified credentials
// (keyed by a SHA-256 of user, hash and password) so that a scrape every 15 s does not pay a
// bcrypt run each time. Thread-safe: check() and verify() may run on any number of threads.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace xenballoon::http {

class BasicAuth {
 public:
  static constexpr std::size_t kCacheEntries = 100;

  // user -> bcrypt hash (validated by http::validate()); none: every request is let through.
  explicit BasicAuth(std::map<std::string, std::string> users = {});

  bool enabled() const { return !users_.empty(); }
  // The value of an Authorization header (nullptr when absent): true when it is Basic with a
  // known user and the right password, or when no users are configured.
  bool check(const char* authorization) const;
  bool verify(std::string_view user, std::string_view password) const;
  // How many verified credentials are cached (tests).
  std::size_t cached() const;

 private:
  std::map<std::string, std::string> users_;
  mutable std::mutex mutex_;
  mutable std::set<std::string> cache_;    // SHA-256 digests of verified credentials
  mutable std::deque<std::string> order_;  // oldest first, evicted beyond kCacheEntries
};

// "Basic dXNlcjpwYXNz" -> ("user", "pass"); nullopt when not Basic, not base64 or without ':'.
std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view header);

// crypt_rn(password, hash) compared with `hash` in constant time; false on any failure.
bool bcrypt_matches(std::string_view password, const std::string& hash);

}  // namespace xenballoon::http
