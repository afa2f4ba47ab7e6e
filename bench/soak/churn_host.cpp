#include "churn_host.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>

#include "guest_publication.h"

namespace xenballoon::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr unsigned kMaxDomid = 32000;  // Xen's domids end below 32752 (DOMID_FIRST_RESERVED)
constexpr auto kPass = std::chrono::milliseconds(20);

}  // namespace

struct ChurnHost::Guest {
  unsigned domid = 0;
  Clock::time_point created;
  Clock::time_point next_publication;
  std::uint64_t round = 0;
  std::uint64_t target_kib = 0;
  Published published;
};

struct ChurnHost::Worker {
  unsigned index = 0;
  std::unique_ptr<testing::XsHandle> xs;
  std::deque<Guest> guests;  // oldest first
  unsigned next_domid = 1;
  double churn_per_second = 0;
  double churn_due = 0;  // domains owed to the churn rate
  Clock::time_point last_pass;
};

ChurnHost::ChurnHost(const std::string& dom0_socket, ChurnOptions options)
    : options_(std::move(options)) {
  const unsigned n = std::max(1u, std::min(options_.workers, std::max(1u, options_.guests)));
  const auto now = Clock::now();
  for (unsigned w = 0; w < n; ++w) {
    auto worker = std::make_unique<Worker>();
    worker->index = w;
    worker->xs = std::make_unique<testing::XsHandle>(dom0_socket);
    worker->next_domid = w + 1;
    worker->churn_per_second = options_.churn_per_second / n;
    worker->last_pass = now;
    workers_.push_back(std::move(worker));
  }
  for (unsigned i = 0; i < options_.guests; ++i) {
    Worker& w = *workers_[i % n];
    create(w);
    // Publications of the first guests spread over one interval, as agents booted at random.
    w.guests.back().next_publication =
        now + options_.publish_interval * i / std::max(1u, options_.guests);
  }
  write_host_memory();
}

ChurnHost::~ChurnHost() {
  stop();
}

void ChurnHost::start() {
  running_ = true;
  const auto now = Clock::now();
  for (auto& w : workers_) {
    w->last_pass = now;
    threads_.emplace_back([this, &w = *w] { run(w); });
  }
}

void ChurnHost::stop() {
  running_ = false;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

ChurnCounts ChurnHost::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::string ChurnHost::first_error() const {
  std::lock_guard lock(mutex_);
  return first_error_;
}

void ChurnHost::failed(const std::string& what, int err) {
  std::lock_guard lock(mutex_);
  ++counts_.errors;
  if (first_error_.empty()) first_error_ = what + ": " + std::strerror(err);
}

void ChurnHost::run(Worker& w) {
  while (running_) {
    pass(w);
    // Worker 0 keeps the host memory file current (every worker's targets are in held_kib_).
    if (w.index == 0) write_host_memory();
    std::this_thread::sleep_for(kPass);
  }
}

void ChurnHost::pass(Worker& w) {
  const auto now = Clock::now();
  w.churn_due += w.churn_per_second * std::chrono::duration<double>(now - w.last_pass).count();
  w.last_pass = now;
  for (; w.churn_due >= 1; w.churn_due -= 1) {
    destroy_oldest(w);
    create(w);
  }
  for (auto& guest : w.guests) {
    if (guest.next_publication > now) continue;
    publish(w, guest);
    guest.next_publication += options_.publish_interval;
    if (guest.next_publication < now) guest.next_publication = now + options_.publish_interval;
  }
}

void ChurnHost::create(Worker& w) {
  const unsigned step = static_cast<unsigned>(workers_.size());
  Guest guest;
  guest.domid = w.next_domid;
  w.next_domid = w.next_domid + step > kMaxDomid ? w.index + 1 : w.next_domid + step;
  guest.created = Clock::now();
  guest.next_publication = guest.created + options_.publish_interval;
  guest.target_kib = options_.target_kib;
  if (int err =
          make_guest(*w.xs, guest.domid, true, options_.target_kib, options_.static_max_kib)) {
    failed("creating domain " + std::to_string(guest.domid), err);
    (void)destroy_guest(*w.xs, guest.domid, false);  // no half-made domain left behind
    return;
  }
  publish(w, guest);  // the agent starts with the domain: its first publication is the full layout
  {
    std::lock_guard lock(mutex_);
    ++counts_.created;
    ++counts_.live;
    held_kib_ += guest.target_kib;
  }
  w.guests.push_back(std::move(guest));
}

void ChurnHost::destroy_oldest(Worker& w) {
  if (w.guests.empty()) return;
  const Guest oldest = std::move(w.guests.front());
  w.guests.pop_front();
  if (int err = destroy_guest(*w.xs, oldest.domid, true)) {
    failed("destroying domain " + std::to_string(oldest.domid), err);
  }
  std::lock_guard lock(mutex_);
  ++counts_.destroyed;
  --counts_.live;
  held_kib_ -= oldest.target_kib;
}

void ChurnHost::publish(Worker& w, Guest& guest) {
  const std::string home = "/local/domain/" + std::to_string(guest.domid);
  const std::uint64_t before = guest.target_kib;
  if (!options_.host_memory_file.empty()) {
    std::string text;
    if (int err = w.xs->read(home + "/memory/target", &text)) {
      failed("reading " + home + "/memory/target", err);
    } else {
      guest.target_kib = std::stoull(text);
    }
  }
  const double age = std::chrono::duration<double>(Clock::now() - guest.created).count();
  auto stats = options_.stats ? options_.stats(guest.domid, guest.round, age, guest.target_kib)
                              : stats_for(guest.domid, guest.round);
  if (!publish_stats(*w.xs, guest.domid, stats, &guest.published)) {
    failed("publishing " + home, errno);
  }
  ++guest.round;
  std::lock_guard lock(mutex_);
  ++counts_.publications;
  held_kib_ = held_kib_ - before + guest.target_kib;
}

void ChurnHost::write_host_memory() {
  if (options_.host_memory_file.empty()) return;
  std::uint64_t held;
  {
    std::lock_guard lock(mutex_);
    held = options_.dom0_kib + held_kib_;
  }
  const std::uint64_t total = options_.host_total_kib;
  const std::string tmp = options_.host_memory_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "total_kib " << total << "\nfree_kib " << (total > held ? total - held : 0) << "\n";
  }
  std::filesystem::rename(tmp, options_.host_memory_file);
}

std::uint64_t ChurnHost::orphans() {
  std::set<std::string> live = {"0"};
  for (const auto& w : workers_) {
    for (const auto& guest : w->guests) live.insert(std::to_string(guest.domid));
  }
  std::vector<std::string> names;
  if (int err = workers_.front()->xs->list("/local/domain", &names)) {
    failed("listing /local/domain", err);
    return 0;
  }
  std::uint64_t orphans = 0;
  for (const auto& name : names) orphans += live.count(name) == 0;
  return orphans;
}

}  // namespace xenballoon::bench
