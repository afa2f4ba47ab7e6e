// A stand-in toolstack for the soaks: keeps a number of guest domains in xenstore and replaces
// them continuously (the oldest destroyed as libxl destroys a domain, a new one created under the
// next domid, each with its agent's full data/xenballoon/ publication at once), every guest
// publishing at its agent's interval. For the balancer, each guest also holds its memory/target
// at once (and publishes so) and the host memory file says what is left. Runs on `workers`
// threads, each with its own xenstore connection and its own share of the domids (so that no
// publication can race the destruction of its domain); counts() may be called from any thread,
// the rest from the owner's.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "xenballoon/publish/guest_stats.h"
#include "xs_client.h"

namespace xenballoon::bench {

// A plain value.
struct ChurnOptions {
  unsigned guests = 1000;        // domains kept alive
  double churn_per_second = 20;  // domains destroyed (and as many created) per second
  std::chrono::milliseconds publish_interval{5000};
  std::uint64_t target_kib = 262144;  // at creation
  std::uint64_t static_max_kib = 524288;
  // Non-empty: each guest follows its memory/target and this file gets "total_kib N\nfree_kib
  // M\n" (total − dom0 − every guest's target) after every pass.
  std::string host_memory_file;
  std::uint64_t host_total_kib = 0;
  std::uint64_t dom0_kib = 0;
  // What a guest's agent publishes: its domid, the publication's number, the seconds since the
  // domain was created and the target it holds. Empty: stats_for(domid, round).
  std::function<publish::GuestStats(unsigned, std::uint64_t, double, std::uint64_t)> stats;
  unsigned workers = 4;  // threads; worker w owns the domids d with d % workers == w
};

// A plain value.
struct ChurnCounts {
  std::uint64_t created = 0, destroyed = 0, publications = 0;
  std::uint64_t errors = 0;  // xenstore operations of the stand-in that failed
  std::uint64_t live = 0;
};

class ChurnHost {
 public:
  // Lays out the first `guests` domains (domids from 1) with their first publication.
  ChurnHost(const std::string& dom0_socket, ChurnOptions options);
  ~ChurnHost();  // stops the thread
  ChurnHost(const ChurnHost&) = delete;
  ChurnHost& operator=(const ChurnHost&) = delete;

  void start();
  void stop();
  ChurnCounts counts() const;
  // Domains under /local/domain that the stand-in did not create or already destroyed (keys a
  // daemon wrote after a domain was gone). Call after stop().
  std::uint64_t orphans();
  // The first error the stand-in met, "" when none.
  std::string first_error() const;

 private:
  struct Guest;
  struct Worker;
  void run(Worker& w);
  void pass(Worker& w);
  void create(Worker& w);
  void destroy_oldest(Worker& w);
  void publish(Worker& w, Guest& guest);
  void failed(const std::string& what, int err);
  void write_host_memory();

  ChurnOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> running_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  ChurnCounts counts_;          // under mutex_
  std::string first_error_;     // under mutex_
  std::uint64_t held_kib_ = 0;  // every live guest's target, under mutex_ (host memory file)
};

}  // namespace xenballoon::bench
