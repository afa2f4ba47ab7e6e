#include "xenballoon/dom0/source.h"

#include <poll.h>

#include <algorithm>
#include <thread>

#include "xenballoon/dom0/exposition_reader.h"
#include "xenballoon/dom0/http_fetch.h"
#include "xenballoon/util/log.h"

namespace xenballoon::dom0 {
namespace {

FeedOptions feed_options(bool watch, std::string socket_path) {
  FeedOptions o;
  o.watch = watch;
  o.socket_path = std::move(socket_path);
  return o;
}

}  // namespace

XenstoreSource::XenstoreSource(bool watch, std::string socket_path)
    : feed_(cache_, feed_options(watch, std::move(socket_path))) {
  std::string why;
  host_ = open_xenctrl_host_memory(&why);
  if (!host_) log::debug("no host memory figures: " + why);
}

Result<Sample> XenstoreSource::sample() {
  return Sample{cache_.views(), host_ ? host_->read() : std::nullopt};
}

// Lets the feed apply watch events until `deadline`.
void XenstoreSource::wait_until(Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    feed_.step();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto timeout = std::min(left, feed_.poll_timeout());
    pollfd fd{feed_.poll_fd(), POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(std::max<long long>(0, timeout.count())));
  }
  feed_.step();
}

Result<Sample> ExporterSource::sample() {
  auto body = http_fetch(address_, "/metrics");
  if (!body) return body.error();
  ExpositionContent content = parse_exposition(*body);
  return Sample{std::move(content.guests), content.host};
}

void ExporterSource::wait_until(Clock::time_point deadline) {
  std::this_thread::sleep_until(deadline);
}

}  // namespace xenballoon::dom0
