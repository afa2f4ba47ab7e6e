/* Loaded into the process under the SONAME "libcrypto.so" (see lib/src/http/tls.cpp): Debian 12's
 * civetweb 1.15 dlopen()s "libcrypto.so", a name only libssl-dev installs. This object needs the
 * real libcrypto.so.3, so civetweb's dlsym() on it finds every function it uses there. */
#include <openssl/crypto.h>

unsigned long xenballoon_crypto_shim(void);
unsigned long xenballoon_crypto_shim(void) {
  return OpenSSL_version_num();
}
