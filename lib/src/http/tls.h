// The server's TLS under civetweb (private to http/): loading civetweb's TLS on OpenSSL 3 and
// configuring its SSL_CTX from a tls_server_config. OpenSSL's types stay here and in tls.cpp.
// enable_civetweb_tls() is thread-safe (once per process); configure_ssl_ctx() touches only the
// context it is given, before civetweb serves with it.
#pragma once

#include <string>
#include <string_view>

#include "xenballoon/http/web_config.h"
#include "xenballoon/result.h"

namespace xenballoon::http::detail {

// Go's curve name -> OpenSSL's group name; empty when unknown.
std::string openssl_group_name(std::string_view go_name);

// Loads the libssl.so/libcrypto.so shims and initializes civetweb's TLS (mg_init_library with
// MG_FEATURES_TLS); the error says why TLS cannot be served. The first call decides.
Result<void> enable_civetweb_tls();

// Sets certificate, key, protocol versions, ciphers, curves and client verification on
// civetweb's server SSL_CTX (an SSL_CTX*).
Result<void> configure_ssl_ctx(void* ssl_ctx, const TlsServerConfig& tls);

}  // namespace xenballoon::http::detail
