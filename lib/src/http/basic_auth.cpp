#include "xenballoon/http/basic_auth.h"

#include <crypt.h>

#include <cstring>
#include <memory>

#include "tls.h"

namespace xenballoon::http {
namespace {

std::string cache_key(std::string_view user, const std::string& hash, std::string_view password) {
  std::string material;
  material.reserve(user.size() + hash.size() + password.size() + 2);
  material.append(user).push_back('\0');
  material.append(hash).push_back('\0');
  material.append(password);
  std::optional<std::string> digest = detail::sha256(material);  // none: nothing is cached
  explicit_bzero(material.data(), material.size());
  return digest.value_or("");
}

// Compares `size` bytes in a time that depends on the size only.
bool equal_in_constant_time(const char* a, const char* b, std::size_t size) {
  volatile unsigned char differ = 0;
  for (std::size_t i = 0; i < size; ++i) {
    differ = differ | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return differ == 0;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    const int v = base64_value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  if (count >= 6) return std::nullopt;  // a lone sixth of a byte
  return out;
}

}  // namespace

bool bcrypt_matches(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos) return false;
  const std::string phrase(password);
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof *data);
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof *data);
  bool ok = out != nullptr && out[0] != '*' && std::strlen(out) == hash.size() &&
            equal_in_constant_time(out, hash.data(), hash.size());
  explicit_bzero(data.get(), sizeof *data);
  return ok;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}

std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view header) {
  constexpr std::string_view kScheme = "basic ";
  if (header.size() < kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  header.remove_prefix(kScheme.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  auto decoded = base64_decode(header);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

bool BasicAuth::check(const char* authorization) const {
  if (!enabled()) return true;
  if (!authorization) return false;
  auto credentials = parse_basic_authorization(authorization);
  if (!credentials) return false;
  return verify(credentials->first, credentials->second);
}

bool BasicAuth::verify(std::string_view user, std::string_view password) const {
  if (!enabled()) return true;
  auto found = users_.find(std::string(user));
  if (found == users_.end()) {
    // As long as a known user's check: a bcrypt run at a configured cost, whose result does not
    // matter.
    (void)bcrypt_matches(password, users_.begin()->second);
    return false;
  }
  const std::string key = cache_key(user, found->second, password);
  {
    std::lock_guard lock(mutex_);
    if (!key.empty() && cache_.count(key) != 0) return true;
  }
  if (!bcrypt_matches(password, found->second)) return false;
  if (!key.empty()) {
    std::lock_guard lock(mutex_);
    if (cache_.insert(key).second) {
      order_.push_back(key);
      while (order_.size() > kCacheEntries) {
        cache_.erase(order_.front());
        order_.pop_front();
      }
    }
  }
  return true;
}

std::size_t BasicAuth::cached() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

}  // namespace xenballoon::http
