// Test support for --web.config.file: certificates made at test time with the openssl command (a
// CA, a server certificate for 127.0.0.1 and localhost, a client certificate, and a client with
// its own unrelated CA), fixed bcrypt hashes of fixed test passwords, and curl run as a client.
// No private key is committed. Not thread-safe; one per test.
#pragma once

#include <string>
#include <vector>

#include "process.h"

namespace xenballoon::testing {

// bcrypt (cost 4, fast to check) of kTestPassword and kNewPassword.
inline constexpr const char* kTestPassword = "test-password";
inline constexpr const char* kTestPasswordHash =
    "$2b$04$6OVK5xOKak3lgDJbeWC81.5e0xnKUhZLgXNThFNEU.2X8esCNfAkG";
inline constexpr const char* kNewPassword = "new-password";
inline constexpr const char* kNewPasswordHash =
    "$2b$04$eQ.MAZriHOj42v3.Q9RTUe//CZo55lsPzg53QYQ.qoRhLuCb16Im6";

// ca.pem, server.pem/server.key, client.pem/client.key (signed by ca.pem), rogue.pem/rogue.key
// (a self-signed client), other.key (matches no certificate), in a fresh directory. EC P-256
// keys: a set takes about a second.
class TestCertificates {
 public:
  TestCertificates();
  const std::string& dir() const { return dir_.path(); }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  // Writes `text` to `name` in the directory (replacing it atomically); returns the path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  TempDir dir_;
};

// What curl said: the HTTP status (0 when there was no HTTP answer: refused, TLS failure), the
// body, curl's exit code and its error text.
struct CurlResult {
  int status = 0;
  std::string body;
  int exit_code = -1;
  std::string error;
};

// curl -sS <args...> <url>; args such as {"--cacert", ca, "-u", "user:pass"}.
CurlResult curl(const std::string& url, const std::vector<std::string>& args = {});

}  // namespace xenballoon::testing
