// Test support: a xenstore socket proxy between a client (the agent) and xenstored-lite that
// forwards xs_wire messages both ways and, once armed, closes the client's connection at its
// first request inside a transaction (before forwarding it), as a guest's xenstore connection
// lost mid-transaction. Later connections are forwarded normally. Thread-safe: its own thread
// serves every connection; the public calls may come from any thread.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace xenballoon::testing {

class XsProxy {
 public:
  // Listens on `listen_path` and connects each client to `upstream_path`.
  XsProxy(std::string listen_path, std::string upstream_path);
  ~XsProxy();
  XsProxy(const XsProxy&) = delete;
  XsProxy& operator=(const XsProxy&) = delete;

  const std::string& path() const { return listen_path_; }
  // The next request with a transaction id closes that client's connection.
  void cut_next_transaction() { armed_ = true; }
  // How many connections were cut so far, and accepted so far.
  int cuts() const { return cuts_; }
  int connections() const { return connections_; }

 private:
  void run();
  std::string listen_path_, upstream_path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> armed_{false};
  std::atomic<int> cuts_{0}, connections_{0};
  std::thread thread_;
};

}  // namespace xenballoon::testing
