#include "tls.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

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
// the ssl shim.
Result<void> load_shim(const char* soname, const unsigned char* bytes, unsigned long size) {
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
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  // The descriptor stays open: glibc knows the object by this path too, and a second shim loaded
  // from a reused descriptor number would be taken for the first.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    ::close(fd);
    return Error{std::string("loading the ") + soname + " shim: " + (why ? why : "dlopen failed")};
  }
  return {};  // never closed: civetweb holds it for the life of the process
}

int version_number(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// Request or require a certificate without verifying it (Go's RequestClientCert and
// RequireAnyClientCert).
int accept_any_certificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) {
  return 0;
}

std::string openssl_error(const std::string& what) {
  std::string text = what;
  if (const unsigned long code = ERR_get_error(); code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += ": ";
    text += buffer;
  }
  ERR_clear_error();
  return text;
}

}  // namespace

Result<void> enable_civetweb_tls() {
  static std::once_flag once;
  static Result<void> result;
  std::call_once(once, [] {
    if (auto loaded =
            load_shim("libcrypto.so", xenballoon_crypto_shim, xenballoon_crypto_shim_size);
        !loaded) {
      result = loaded;
      return;
    }
    if (auto loaded = load_shim("libssl.so", xenballoon_ssl_shim, xenballoon_ssl_shim_size);
        !loaded) {
      result = loaded;
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

Result<void> configure_ssl_ctx(void* opaque, const TlsServerConfig& tls) {
  auto* ctx = static_cast<SSL_CTX*>(opaque);
  ERR_clear_error();
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);  // never a prompt on a terminal
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    return Error{openssl_error("certificate " + tls.cert_file)};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Error{openssl_error("private key " + tls.key_file)};
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Error{openssl_error(tls.key_file + " does not match " + tls.cert_file)};
  }
  if (SSL_CTX_set_min_proto_version(ctx, version_number(tls.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, tls.max_version ? version_number(*tls.max_version) : 0) !=
          1) {
    return Error{openssl_error("protocol versions")};
  }
  std::string tls12, tls13;
  for (const std::string& name : tls.cipher_suites) {
    for (const CipherName& c : cipher_table()) {
      if (c.go != name) continue;
      std::string& list = c.tls13 ? tls13 : tls12;
      list += (list.empty() ? "" : ":") + std::string(c.openssl);
    }
  }
  if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, tls12.c_str()) != 1) {
    return Error{openssl_error("cipher_suites " + tls12)};
  }
  if (!tls13.empty() && SSL_CTX_set_ciphersuites(ctx, tls13.c_str()) != 1) {
    return Error{openssl_error("cipher_suites " + tls13)};
  }
  if (tls.prefer_server_cipher_suites) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  std::string groups;
  for (const std::string& name : tls.curve_preferences) {
    groups += (groups.empty() ? "" : ":") + openssl_group_name(name);
  }
  if (!groups.empty() && SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
    return Error{openssl_error("curve_preferences " + groups)};
  }
  const bool asks = tls.client_auth != ClientAuth::kNoClientCert;
  const bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  const bool required = tls.client_auth == ClientAuth::kRequireAnyClientCert ||
                        tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (asks) {
    if (!tls.client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
        return Error{openssl_error("client_ca_file " + tls.client_ca_file)};
      }
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
        SSL_CTX_set_client_CA_list(ctx, names);  // the CAs the server names to clients
      }
    } else if (verifies && SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Error{openssl_error("the system's trust store")};
    }
    const int mode = SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, verifies ? nullptr : accept_any_certificate);
    SSL_CTX_set_verify_depth(ctx, 9);
    static const unsigned char kSessionContext[] = "xenballoon";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  ERR_clear_error();
  return {};
}

}  // namespace xenballoon::http::detail
