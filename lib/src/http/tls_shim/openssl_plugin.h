/* What the ssl shim (loaded from memory on first use, see ../tls.cpp) offers the library besides
 * civetweb's missing function: everything the library does with OpenSSL, behind a C interface
 * without OpenSSL types, so that libssl and libcrypto are mapped into a daemon only when its web
 * configuration asks for TLS or basic auth. Each function writes a message into `error` (of
 * `size` bytes) when it returns 0. Thread-safe: no state of its own. */
#ifndef XENBALLOON_OPENSSL_PLUGIN_H
#define XENBALLOON_OPENSSL_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The client_auth values, as http::ClientAuth. */
enum {
  XB_NO_CLIENT_CERT,
  XB_REQUEST_CLIENT_CERT,
  XB_REQUIRE_ANY_CLIENT_CERT,
  XB_VERIFY_CLIENT_CERT_IF_GIVEN,
  XB_REQUIRE_AND_VERIFY_CLIENT_CERT
};

struct xb_tls_settings {
  const char* cert_file;
  const char* key_file;
  const char* client_ca_file; /* "" for none */
  int client_auth;            /* XB_* */
  int min_version;            /* 10, 11, 12, 13 */
  int max_version;            /* 0 for none */
  const char* cipher_list;    /* OpenSSL TLS 1.2 names joined by ':', "" for the defaults */
  const char* ciphersuites;   /* TLS 1.3 suites joined by ':', "" for the defaults */
  const char* groups;         /* OpenSSL group names joined by ':', "" for the defaults */
  int prefer_server_ciphers;
};

/* Configures a server SSL_CTX (passed as void*) completely. */
int xb_tls_configure(void* ssl_ctx, const struct xb_tls_settings* settings, char* error,
                     size_t size);
/* A readable PEM file with a certificate first; one without a private key, unencrypted. */
int xb_tls_check_certificate(const char* path, char* error, size_t size);
int xb_tls_check_private_key(const char* path, char* error, size_t size);
/* The key in `key_path` belongs to the first certificate in `cert_path`. */
int xb_tls_check_pair(const char* cert_path, const char* key_path, char* error, size_t size);
/* SHA-256 of `size` bytes into out[32]. */
int xb_sha256(const void* data, size_t size, unsigned char* out);

typedef int (*xb_tls_configure_fn)(void*, const struct xb_tls_settings*, char*, size_t);
typedef int (*xb_tls_check_fn)(const char*, char*, size_t);
typedef int (*xb_tls_check_pair_fn)(const char*, const char*, char*, size_t);
typedef int (*xb_sha256_fn)(const void*, size_t, unsigned char*);

#ifdef __cplusplus
}
#endif

#endif
