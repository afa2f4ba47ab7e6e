#include "tls.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "tls_shim/openssl_plugin.h"

extern "C" {
extern const unsigned char xenballoon_ssl_shim[];
extern const unsigned long xenballoon_ssl_shim_size;
extern const unsigned char xenballoon_crypto_shim[];
extern const unsigned long xenballoon_crypto_shim_size;
}

namespace xenballoon::http::detail {
namespace {

// Debian 12's libcivetweb1 (1.15) dlopen()s "libssl.so" and "libcrypto.so", names that only
// libssl-dev installs, and looks the OpenSSL 1.1 functions up by name; OpenSSL 3 lacks
// SSL_get_peer_certificate, and civetweb calls the null pointer on the first TLS connection.
// glibc's dlopen() answers a name with an object already loaded whose SONAME is that name, before
// it searches any directory. So the shims, whose SONAMEs are "libssl.so" and "libcrypto.so" and
// which need the real libssl.so.3 and libcrypto.so.3, are written to memory files and loaded from
// there first: civetweb's dlopen() then gets them whether or not libssl-dev is installed, and its
// dlsym() on them finds OpenSSL 3's functions through their dependencies, and the missing one in
// the ssl shim. The ssl shim also carries the library's own OpenSSL code (openssl_plugin.h).
Result<void*> load_shim(const char* soname, const unsigned char* bytes, unsigned long size) {
  const int fd = ::memfd_create(soname, MFD_CLOEXEC);
  if (fd < 0) return Error{std::string("memfd_create: ") + std::strerror(errno), errno};
  unsigned long written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, bytes + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return Error{std::string("writing the ") + soname + " shim: " + std::strerror(err), err};
    }
    written += static_cast<unsigned long>(n);
  }
  // The descriptor stays open: glibc knows the object by this path too, and a second shim loaded
  // from a reused descriptor number would be taken for the first.
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    ::close(fd);
    return Error{std::string("loading the ") + soname + " shim: " + (why ? why : "dlopen failed")};
  }
  return handle;  // never closed: civetweb holds it for the life of the process
}

struct Plugin {
  xb_tls_configure_fn configure = nullptr;
  xb_tls_check_fn check_certificate = nullptr;
  xb_tls_check_fn check_private_key = nullptr;
  xb_tls_check_pair_fn check_pair = nullptr;
  xb_sha256_fn sha256 = nullptr;
};

// The shims, loaded once; the plugin's functions from the ssl shim.
Result<const Plugin*> plugin() {
  static std::once_flag once;
  static Plugin functions;
  static Result<const Plugin*> result = Error{"not loaded"};
  std::call_once(once, [] {
    auto crypto = load_shim("libcrypto.so", xenballoon_crypto_shim, xenballoon_crypto_shim_size);
    if (!crypto) {
      result = crypto.error();
      return;
    }
    auto ssl = load_shim("libssl.so", xenballoon_ssl_shim, xenballoon_ssl_shim_size);
    if (!ssl) {
      result = ssl.error();
      return;
    }
    auto find = [&](const char* name) { return ::dlsym(*ssl, name); };
    functions.configure = reinterpret_cast<xb_tls_configure_fn>(find("xb_tls_configure"));
    functions.check_certificate =
        reinterpret_cast<xb_tls_check_fn>(find("xb_tls_check_certificate"));
    functions.check_private_key =
        reinterpret_cast<xb_tls_check_fn>(find("xb_tls_check_private_key"));
    functions.check_pair = reinterpret_cast<xb_tls_check_pair_fn>(find("xb_tls_check_pair"));
    functions.sha256 = reinterpret_cast<xb_sha256_fn>(find("xb_sha256"));
    if (!functions.configure || !functions.check_certificate || !functions.check_private_key ||
        !functions.check_pair || !functions.sha256) {
      result = Error{"the ssl shim lacks its functions"};
      return;
    }
    result = static_cast<const Plugin*>(&functions);
  });
  return result;
}

int version_number(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10:
      return 10;
    case TlsVersion::kTls11:
      return 11;
    case TlsVersion::kTls12:
      return 12;
    case TlsVersion::kTls13:
      return 13;
  }
  return 12;
}

int client_auth_number(ClientAuth auth) {
  switch (auth) {
    case ClientAuth::kNoClientCert:
      return XB_NO_CLIENT_CERT;
    case ClientAuth::kRequestClientCert:
      return XB_REQUEST_CLIENT_CERT;
    case ClientAuth::kRequireAnyClientCert:
      return XB_REQUIRE_ANY_CLIENT_CERT;
    case ClientAuth::kVerifyClientCertIfGiven:
      return XB_VERIFY_CLIENT_CERT_IF_GIVEN;
    case ClientAuth::kRequireAndVerifyClientCert:
      return XB_REQUIRE_AND_VERIFY_CLIENT_CERT;
  }
  return XB_REQUIRE_AND_VERIFY_CLIENT_CERT;
}

// "" or the plugin's message; the plugin's load error when it cannot be loaded.
template <typename Call>
std::string problem_of(Call&& call) {
  auto loaded = plugin();
  if (!loaded) return "cannot load OpenSSL: " + loaded.error().message;
  char error[512] = "";
  return call(**loaded, error, sizeof error) == 1 ? std::string() : std::string(error);
}

}  // namespace

Result<void> enable_civetweb_tls() {
  static std::once_flag once;
  static Result<void> result;
  std::call_once(once, [] {
    if (auto loaded = plugin(); !loaded) {
      result = loaded.error();
      return;
    }
    if (mg_check_feature(MG_FEATURES_TLS) == 0) {
      result = Error{"civetweb was built without TLS"};
      return;
    }
    if ((mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) == 0) {
      result = Error{"civetweb could not initialize OpenSSL"};
    }
  });
  return result;
}

Result<void> configure_ssl_ctx(void* ssl_ctx, const TlsServerConfig& tls) {
  std::string tls12, tls13;
  for (const std::string& name : tls.cipher_suites) {
    for (const CipherName& c : cipher_table()) {
      if (c.go != name) continue;
      std::string& list = c.tls13 ? tls13 : tls12;
      list += (list.empty() ? "" : ":") + std::string(c.openssl);
    }
  }
  std::string groups;
  for (const std::string& name : tls.curve_preferences) {
    groups += (groups.empty() ? "" : ":") + openssl_group_name(name);
  }
  const xb_tls_settings settings{
      tls.cert_file.c_str(),
      tls.key_file.c_str(),
      tls.client_ca_file.c_str(),
      client_auth_number(tls.client_auth),
      version_number(tls.min_version),
      tls.max_version ? version_number(*tls.max_version) : 0,
      tls12.c_str(),
      tls13.c_str(),
      groups.c_str(),
      tls.prefer_server_cipher_suites ? 1 : 0,
  };
  std::string problem = problem_of([&](const Plugin& p, char* error, std::size_t size) {
    return p.configure(ssl_ctx, &settings, error, size);
  });
  if (!problem.empty()) return Error{problem};
  return {};
}

std::string certificate_problem(const std::string& path) {
  return problem_of([&](const Plugin& p, char* error, std::size_t size) {
    return p.check_certificate(path.c_str(), error, size);
  });
}

std::string private_key_problem(const std::string& path) {
  return problem_of([&](const Plugin& p, char* error, std::size_t size) {
    return p.check_private_key(path.c_str(), error, size);
  });
}

std::string key_pair_problem(const std::string& cert_path, const std::string& key_path) {
  return problem_of([&](const Plugin& p, char* error, std::size_t size) {
    return p.check_pair(cert_path.c_str(), key_path.c_str(), error, size);
  });
}

std::optional<std::string> sha256(std::string_view data) {
  auto loaded = plugin();
  if (!loaded) return std::nullopt;
  unsigned char digest[32];
  if ((*loaded)->sha256(data.data(), data.size(), digest) != 1) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace xenballoon::http::detail
