#include "xenballoon/dom0/http_fetch.h"

#include <civetweb.h>

#include <cerrno>

#include "xenballoon/util/parse.h"

namespace xenballoon::dom0 {

Result<std::string> http_fetch(const std::string& address, const std::string& path) {
  auto colon = address.rfind(':');
  auto port = colon == std::string::npos ? std::nullopt : parse_u64(address.substr(colon + 1));
  if (!port || *port == 0 || *port > 65535) {
    return Error{"exporter address \"" + address + "\": expected [host]:port", EINVAL};
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "localhost";
  mg_init_library(0);
  char error[256] = "";
  mg_connection* conn =
      mg_connect_client(host.c_str(), static_cast<int>(*port), 0, error, sizeof error);
  if (!conn) {
    mg_exit_library();
    return Error{"cannot connect to " + address + ": " + error, ECONNREFUSED};
  }
  mg_printf(conn, "GET %s HTTP/1.0\r\nHost: %s\r\nAccept-Encoding: identity\r\n\r\n", path.c_str(),
            host.c_str());
  Result<std::string> result = Error{"no answer from " + address, EIO};
  if (mg_get_response(conn, error, sizeof error, 10000) >= 0) {
    const mg_response_info* info = mg_get_response_info(conn);
    if (info && info->status_code == 200) {
      std::string body;
      if (info->content_length > 0) body.reserve(static_cast<std::size_t>(info->content_length));
      char buffer[65536];
      int n;
      while ((n = mg_read(conn, buffer, sizeof buffer)) > 0) {
        body.append(buffer, static_cast<std::size_t>(n));
      }
      result = std::move(body);
    } else {
      result =
          Error{address + path + " answered " + std::to_string(info ? info->status_code : 0), EIO};
    }
  } else {
    result = Error{"no answer from " + address + ": " + error, EIO};
  }
  mg_close_connection(conn);
  mg_exit_library();
  return result;
}

}  // namespace xenballoon::dom0
