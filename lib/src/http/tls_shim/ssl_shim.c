/* Loaded into the process under the SONAME "libssl.so" (see lib/src/http/tls.cpp): Debian 12's
 * civetweb 1.15 dlopen()s "libssl.so" and resolves the OpenSSL 1.1 interface by name. This object
 * needs the real libssl.so.3, so civetweb's dlsym() on it finds every OpenSSL 3 function through
 * it, and it provides the one 1.1 function OpenSSL 3 no longer exports (a macro there), whose
 * absence makes civetweb call a null pointer on the first TLS connection. */
#include <openssl/ssl.h>
#include <openssl/x509.h>

#undef SSL_get_peer_certificate
X509* SSL_get_peer_certificate(const SSL* ssl);
X509* SSL_get_peer_certificate(const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}
