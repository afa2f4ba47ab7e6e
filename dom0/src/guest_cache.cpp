#include "xenballoon/dom0/guest_cache.h"

#include <mutex>

#include "xenballoon/util/log.h"

namespace xenballoon::dom0 {
namespace {

// Bounds the log-once memory if domains come and go for months.
constexpr std::size_t kMaxReported = 4096;

}  // namespace

const std::vector<std::string>& parse_error_reasons() {
  static const std::vector<std::string> reasons = {"duplicate",    "malformed",      "out_of_range",
                                                   "too_large",    "too_many_lines", "unknown_key",
                                                   "unknown_value"};
  return reasons;
}

GuestCache::GuestCache() {
  for (const auto& reason : parse_error_reasons()) stats_.parse_errors[reason] = 0;
}

void GuestCache::put_domain(std::uint32_t domid,
                            const std::vector<std::pair<std::string, std::string>>& values,
                            double now, bool after_event) {
  GuestRecord record(domid);
  std::vector<std::pair<std::string, std::string>> refusals;
  for (const auto& [key, value] : values) {
    if (auto reason = record.apply(key, value, now)) refusals.emplace_back(key, *reason);
  }
  std::unique_lock lock(mutex_);
  guests_.insert_or_assign(domid, std::move(record));
  if (after_event) stats_.updates += values.size();
  for (const auto& [key, reason] : refusals) count_refusal(domid, key, reason);
}

void GuestCache::update(std::uint32_t domid, std::string_view key,
                        const std::optional<std::string>& value, double now) {
  std::unique_lock lock(mutex_);
  auto it = guests_.find(domid);
  if (it == guests_.end()) return;
  ++stats_.updates;
  if (auto reason = it->second.apply(key, value, now)) count_refusal(domid, key, *reason);
}

void GuestCache::count_unknown_agent_key(std::uint32_t domid) {
  std::unique_lock lock(mutex_);
  count_refusal(domid, "data/xenballoon/*", "unknown_key");
}

void GuestCache::count_refusal(std::uint32_t domid, std::string_view key,
                               const std::string& reason) {
  ++stats_.parse_errors[reason];
  std::string message =
      "domain " + std::to_string(domid) + ": refused " + std::string(key) + " (" + reason + ")";
  bool first = reported_.size() < kMaxReported && reported_.emplace(domid, reason).second;
  if (first) {
    log::warning(message + "; further refusals of this kind are logged at debug level");
  } else {
    log::debug(message);
  }
}

void GuestCache::remove(std::uint32_t domid) {
  std::unique_lock lock(mutex_);
  guests_.erase(domid);
  std::erase_if(reported_, [&](const auto& entry) { return entry.first == domid; });
}

void GuestCache::retain(const std::set<std::uint32_t>& present) {
  std::unique_lock lock(mutex_);
  std::erase_if(guests_, [&](const auto& entry) { return !present.count(entry.first); });
  std::erase_if(reported_, [&](const auto& entry) { return !present.count(entry.first); });
}

bool GuestCache::contains(std::uint32_t domid) const {
  std::shared_lock lock(mutex_);
  return guests_.count(domid) > 0;
}

std::vector<std::uint32_t> GuestCache::domids() const {
  std::shared_lock lock(mutex_);
  std::vector<std::uint32_t> out;
  out.reserve(guests_.size());
  for (const auto& [domid, record] : guests_) out.push_back(domid);
  return out;
}

std::vector<GuestView> GuestCache::views() const {
  std::shared_lock lock(mutex_);
  std::vector<GuestView> out;
  out.reserve(guests_.size());
  for (const auto& [domid, record] : guests_) {
    if (record.exported()) out.push_back(record.view());
  }
  return out;
}

}  // namespace xenballoon::dom0
