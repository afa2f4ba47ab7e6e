/* The library's OpenSSL code, inside the ssl shim: see openssl_plugin.h. */
#include "openssl_plugin.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

/* No passphrase prompt: OpenSSL's default would read one from the terminal. */
static int no_passphrase(char* buffer, int size, int rwflag, void* user) {
  (void)buffer;
  (void)size;
  (void)rwflag;
  (void)user;
  return 0;
}

/* "<what>: <OpenSSL's first queued reason>" into error; the queue is emptied. Returns 0. */
static int fail(char* error, size_t size, const char* what) {
  unsigned long code = ERR_get_error();
  const char* reason = code ? ERR_reason_error_string(code) : NULL;
  snprintf(error, size, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
  ERR_clear_error();
  return 0;
}

static int version_number(int version) {
  switch (version) {
    case 10:
      return TLS1_VERSION;
    case 11:
      return TLS1_1_VERSION;
    case 13:
      return TLS1_3_VERSION;
    case 0:
      return 0;
    default:
      return TLS1_2_VERSION;
  }
}

/* Request or require a certificate without verifying it (RequestClientCert,
 * RequireAnyClientCert). */
static int accept_any_certificate(int preverify_ok, X509_STORE_CTX* ctx) {
  (void)preverify_ok;
  (void)ctx;
  return 1;
}

int xb_tls_configure(void* opaque, const struct xb_tls_settings* s, char* error, size_t size) {
  SSL_CTX* ctx = (SSL_CTX*)opaque;
  ERR_clear_error();
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1) {
    return fail(error, size, "cert_file");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) != 1) {
    return fail(error, size, "key_file");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) return fail(error, size, "key_file and cert_file");
  if (SSL_CTX_set_min_proto_version(ctx, version_number(s->min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, version_number(s->max_version)) != 1) {
    return fail(error, size, "min_version, max_version");
  }
  if (s->cipher_list[0] && SSL_CTX_set_cipher_list(ctx, s->cipher_list) != 1) {
    return fail(error, size, "cipher_suites");
  }
  if (s->ciphersuites[0] && SSL_CTX_set_ciphersuites(ctx, s->ciphersuites) != 1) {
    return fail(error, size, "cipher_suites (TLS 1.3)");
  }
  if (s->prefer_server_ciphers) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  if (s->groups[0] && SSL_CTX_set1_groups_list(ctx, s->groups) != 1) {
    return fail(error, size, "curve_preferences");
  }
  const int asks = s->client_auth != XB_NO_CLIENT_CERT;
  const int verifies = s->client_auth == XB_VERIFY_CLIENT_CERT_IF_GIVEN ||
                       s->client_auth == XB_REQUIRE_AND_VERIFY_CLIENT_CERT;
  const int required = s->client_auth == XB_REQUIRE_ANY_CLIENT_CERT ||
                       s->client_auth == XB_REQUIRE_AND_VERIFY_CLIENT_CERT;
  if (asks) {
    if (s->client_ca_file[0]) {
      if (SSL_CTX_load_verify_locations(ctx, s->client_ca_file, NULL) != 1) {
        return fail(error, size, "client_ca_file");
      }
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s->client_ca_file);
      if (names) SSL_CTX_set_client_CA_list(ctx, names); /* the CAs named to clients */
    } else if (verifies && SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return fail(error, size, "the system's trust store");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       verifies ? NULL : accept_any_certificate);
    SSL_CTX_set_verify_depth(ctx, 9);
    static const unsigned char kSessionContext[] = "xenballoon";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  }
  ERR_clear_error();
  return 1;
}

static X509* read_certificate(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) return NULL;
  X509* cert = PEM_read_X509(f, NULL, no_passphrase, NULL);
  fclose(f);
  return cert;
}

static EVP_PKEY* read_key(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) return NULL;
  EVP_PKEY* key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
  fclose(f);
  return key;
}

int xb_tls_check_certificate(const char* path, char* error, size_t size) {
  ERR_clear_error();
  X509* cert = read_certificate(path);
  if (!cert) return fail(error, size, "no PEM certificate");
  X509_free(cert);
  return 1;
}

int xb_tls_check_private_key(const char* path, char* error, size_t size) {
  ERR_clear_error();
  EVP_PKEY* key = read_key(path);
  if (!key) return fail(error, size, "no PEM private key, or an encrypted one");
  EVP_PKEY_free(key);
  return 1;
}

int xb_tls_check_pair(const char* cert_path, const char* key_path, char* error, size_t size) {
  ERR_clear_error();
  X509* cert = read_certificate(cert_path);
  EVP_PKEY* key = read_key(key_path);
  const int ok = cert && key && X509_check_private_key(cert, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) return fail(error, size, "the key is not the certificate's");
  ERR_clear_error();
  return 1;
}

int xb_sha256(const void* data, size_t size, unsigned char* out) {
  unsigned int length = 0;
  return EVP_Digest(data, size, out, &length, EVP_sha256(), NULL) == 1 && length == 32;
}
