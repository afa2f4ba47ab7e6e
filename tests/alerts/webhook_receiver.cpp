#include "webhook_receiver.h"

#include <civetweb.h>

#include <cstring>
#include <stdexcept>

namespace xenballoon::testing {

WebhookReceiver::WebhookReceiver() {
  const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "2", nullptr};
  mg_callbacks callbacks{};
  context_ = mg_start(&callbacks, nullptr, options);
  if (!context_) throw std::runtime_error("the webhook receiver (civetweb) did not start");
  mg_server_port ports[1]{};
  if (mg_get_server_ports(context_, 1, ports) < 1) {
    mg_stop(context_);
    throw std::runtime_error("the webhook receiver has no listening port");
  }
  port_ = static_cast<std::uint16_t>(ports[0].port);
  mg_set_request_handler(context_, "/alerts", &WebhookReceiver::handle, this);
}

WebhookReceiver::~WebhookReceiver() {
  if (context_) mg_stop(context_);
}

std::vector<std::string> WebhookReceiver::bodies() const {
  std::lock_guard lock(mutex_);
  return bodies_;
}

int WebhookReceiver::handle(mg_connection* connection, void* self) {
  auto* receiver = static_cast<WebhookReceiver*>(self);
  const mg_request_info* request = mg_get_request_info(connection);
  if (!request->request_method || std::strcmp(request->request_method, "POST") != 0) {
    mg_printf(connection,
              "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return 405;
  }
  std::string body;
  char buffer[8192];
  for (int got = 0; (got = mg_read(connection, buffer, sizeof buffer)) > 0;) {
    body.append(buffer, static_cast<std::size_t>(got));
  }
  {
    std::lock_guard lock(receiver->mutex_);
    receiver->bodies_.push_back(std::move(body));
  }
  mg_printf(connection, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  return 200;
}

}  // namespace xenballoon::testing
