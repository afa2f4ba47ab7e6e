// Test support: the real libxenstore, opened against a chosen socket. Not thread-safe.
#pragma once

extern "C" {
#include <xenstore.h>
}

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xenballoon::testing {

// One libxenstore connection (xs_open with XENSTORED_PATH = socket).
class XsHandle {
 public:
  explicit XsHandle(const std::string& socket_path);
  ~XsHandle();
  XsHandle(const XsHandle&) = delete;
  XsHandle& operator=(const XsHandle&) = delete;

  xs_handle* get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

  // Each returns the errno of a failure (0 on success).
  int write(const std::string& path, const std::string& value, xs_transaction_t t = XBT_NULL);
  int read(const std::string& path, std::string* value, xs_transaction_t t = XBT_NULL);
  int mkdir(const std::string& path, xs_transaction_t t = XBT_NULL);
  int rm(const std::string& path, xs_transaction_t t = XBT_NULL);
  int list(const std::string& path, std::vector<std::string>* children,
           xs_transaction_t t = XBT_NULL);
  int watch(const std::string& path, const std::string& token);
  int unwatch(const std::string& path, const std::string& token);
  // Next watch event (path, token) within `timeout`, or nullopt.
  std::optional<std::pair<std::string, std::string>> next_event(std::chrono::milliseconds timeout);
  // Waits up to `timeout` for `count` events, then collects any more that arrive within `quiet`.
  std::vector<std::pair<std::string, std::string>> wait_events(
      std::size_t count, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000),
      std::chrono::milliseconds quiet = std::chrono::milliseconds(150));
  // All events that arrive within `quiet` of each other.
  std::vector<std::pair<std::string, std::string>> drain_events(std::chrono::milliseconds quiet);

 private:
  xs_handle* h_ = nullptr;
};

// errno value -> "EACCES" etc., for readable assertions.
std::string errno_text(int err);

}  // namespace xenballoon::testing
