// xenstored-lite throughput with the real libxenstore: reads/s and writes/s from one client and
// from 100 concurrent clients. Prints medians over repetitions.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "xs_client.h"

using namespace xenballoon::testing;
using Clock = std::chrono::steady_clock;

namespace {

struct Row {
  std::string name;
  std::vector<double> rates;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ops per second for `clients` handles each doing `ops_per_client` operations.
double run_once(const Xenstored& xsd, int clients, int ops_per_client, bool write) {
  std::vector<std::unique_ptr<XsHandle>> handles;
  for (int i = 0; i < clients; ++i) handles.push_back(std::make_unique<XsHandle>(xsd.socket()));
  for (int i = 0; i < clients; ++i) {
    handles[i]->write("/bench/" + std::to_string(i), "0123456789abcdef");
  }
  std::barrier sync(clients + 1);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      std::string path = "/bench/" + std::to_string(i), value;
      sync.arrive_and_wait();
      for (int k = 0; k < ops_per_client; ++k) {
        int err = write ? handles[i]->write(path, "value-" + std::to_string(k))
                        : handles[i]->read(path, &value);
        if (err) ++errors;
      }
      sync.arrive_and_wait();
    });
  }
  sync.arrive_and_wait();
  auto start = Clock::now();
  sync.arrive_and_wait();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& t : threads) t.join();
  if (errors) std::fprintf(stderr, "xenstore_bench: %d operations failed\n", errors.load());
  return clients * ops_per_client / seconds;
}

// The floor any request/reply daemon meets on this machine: two processes bouncing a small
// message over a Unix socket, one write and one read on each side.
double raw_ping_pong(int round_trips) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
  char buf[64] = {};
  pid_t child = ::fork();
  if (child == 0) {
    for (int i = 0; i < round_trips; ++i) {
      if (::read(sv[1], buf, 20) <= 0 || ::write(sv[1], buf, 18) != 18) break;
    }
    ::_exit(0);
  }
  auto start = Clock::now();
  for (int i = 0; i < round_trips; ++i) {
    if (::write(sv[0], buf, 20) != 20 || ::read(sv[0], buf, 18) <= 0) break;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::waitpid(child, nullptr, 0);
  ::close(sv[0]);
  ::close(sv[1]);
  return round_trips / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  int ops = argc > 2 ? std::atoi(argv[2]) : 20000;
  Xenstored xsd;
  std::vector<Row> rows{{"reads/s, 1 client", {}},
                        {"writes/s, 1 client", {}},
                        {"reads/s, 100 clients", {}},
                        {"writes/s, 100 clients", {}},
                        {"raw socket round trips/s", {}}};
  for (int r = 0; r < reps; ++r) {
    rows[0].rates.push_back(run_once(xsd, 1, ops, false));
    rows[1].rates.push_back(run_once(xsd, 1, ops, true));
    rows[2].rates.push_back(run_once(xsd, 100, ops / 100, false));
    rows[3].rates.push_back(run_once(xsd, 100, ops / 100, true));
    rows[4].rates.push_back(raw_ping_pong(ops));
  }
  std::printf("%-28s %12s %12s %12s\n", "xenstore (xenstored-lite)", "median", "min", "max");
  for (const auto& row : rows) {
    std::printf("%-28s %12.0f %12.0f %12.0f\n", row.name.c_str(), median(row.rates),
                *std::min_element(row.rates.begin(), row.rates.end()),
                *std::max_element(row.rates.begin(), row.rates.end()));
  }
  std::printf("one-client reads as a share of the raw socket floor: %.2f\n",
              median(rows[0].rates) / median(rows[4].rates));
  std::printf("(%d repetitions of %d operations each; goal: >= 50000 reads/s from one client)\n",
              reps, ops);
  return 0;
}
