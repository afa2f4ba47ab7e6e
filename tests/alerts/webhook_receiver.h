// Test support: an Alertmanager webhook receiver on 127.0.0.1 (civetweb underneath). It keeps
// every notification's body; the test reads them. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct mg_context;
struct mg_connection;

namespace xenballoon::testing {

class WebhookReceiver {
 public:
  // Listens on a free port of 127.0.0.1; throws when civetweb cannot start.
  WebhookReceiver();
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/alerts"; }

  // The bodies of the POSTs to /alerts so far, in the order they arrived.
  std::vector<std::string> bodies() const;

 private:
  static int handle(mg_connection* connection, void* self);

  mg_context* context_ = nullptr;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::string> bodies_;
};

}  // namespace xenballoon::testing
