// Everything http/ does with OpenSSL (private to http/): civetweb's TLS on OpenSSL 3, its SSL_CTX
// configured from a tls_server_config, the checks of certificate and key files, SHA-256. The
// OpenSSL code lives in the ssl shim (tls_shim/openssl_plugin.c), loaded from memory on the first
// call here: a daemon without TLS or basic auth never maps libssl or libcrypto. Thread-safe (the
// loading happens once); configure_ssl_ctx() touches only the context it is given.
#pragma once

#include <optional>
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

// "" when `path` holds a PEM certificate (a private key, unencrypted), else what is wrong; the
// file must be readable (checked before).
std::string certificate_problem(const std::string& path);
std::string private_key_problem(const std::string& path);
// "" when the key in `key_path` is the private key of the certificate in `cert_path`.
std::string key_pair_problem(const std::string& cert_path, const std::string& key_path);

// The SHA-256 of `data` (32 bytes); nullopt when OpenSSL cannot be loaded.
std::optional<std::string> sha256(std::string_view data);

}  // namespace xenballoon::http::detail
