// Fuzz target http_auth: the part of an HTTP request that is ours (civetweb parses the rest and
// routes are exact-path lookups): the Authorization header, through parse_basic_authorization and
// BasicAuth::check with one configured user (a cost-4 bcrypt hash, so a well-formed header costs
// a millisecond, not 70), and the bcrypt hash check of basic_auth_users values.
// Not thread-safe: libFuzzer calls it from one thread.
#include <cstddef>
#include <cstdint>
#include <string>

#include "xenballoon/http/basic_auth.h"
#include "xenballoon/http/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace xenballoon::http;
  // The header as civetweb hands it over: NUL-terminated, so cut at the first NUL.
  const std::string header(reinterpret_cast<const char*>(data), size);
  (void)parse_basic_authorization(header);
  // alice:secret
  static const BasicAuth auth(
      {{"alice", "$2b$04$gNWEu5CBLhzU.xwjORVQ1e0tHSCzJDPv0XafdqmegG3A7EWQiN3wC"}});
  if (auth.check(header.c_str())) {
    // Only alice's password opens: any other credentials that pass are a finding.
    auto credentials = parse_basic_authorization(header.c_str());
    if (!credentials || credentials->first != "alice" || credentials->second != "secret") {
      __builtin_trap();
    }
  }
  (void)bcrypt_hash_problem(header);
  return 0;
}
