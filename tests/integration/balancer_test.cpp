// xenballoon-balancer as a process against xenstored-lite and a host memory file: three guests
// laid out as libxl does, publishing the agent's layout (publish::encode), and a small stand-in
// toolstack on a thread that lets each guest follow its memory/target at once and keeps the host
// memory file current (free = total - dom0 - the targets). Memory moves to the guest that needs
// it from an idle one, the host is never overcommitted, pinned guests stay, dry runs change
// nothing, destroyed guests leave /metrics, and the service behaviours (SIGHUP, --check-config,
// the pidfile) hold. Every process is started and stopped by PID; loopback only.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "guarded_target.h"
#include "guest_env.h"
#include "http_get.h"
#include "metrics_doc.h"
#include "process.h"
#include "xenballoon/dom0/target_setter.h"
#include "xenballoon/publish/layout.h"
#include "xenballoon/xenstore/client.h"
#include "xs_client.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;
namespace publish = xenballoon::publish;

namespace {

constexpr std::uint64_t kMib = 1024;  // KiB
constexpr std::uint64_t kDom0Kib = 512 * kMib;
constexpr std::uint64_t kReserveKib = 256 * kMib;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  return GuestEnv::wait_until(predicate, timeout);
}

std::optional<double> value_of(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

std::string uuid_of(unsigned domid, unsigned generation = 0) {
  char text[40];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8%03u-%012u", generation, domid);
  return text;
}

// One guest of the stand-in host.
struct GuestSpec {
  unsigned domid;
  std::string name;
  std::uint64_t target_kib, static_max_kib, committed_as_kib;
  bool agent = true;  // false: publishes nothing (no agent, no balloon figures)
};

// domid="1",domain="busy",uuid="…"
std::string labels(const GuestSpec& guest, unsigned generation = 0) {
  return "domid=\"" + std::to_string(guest.domid) + "\",domain=\"" + guest.name + "\",uuid=\"" +
         uuid_of(guest.domid, generation) + "\"";
}

// xenstored-lite with the guests, and the stand-in toolstack on its own thread.
class Host {
 public:
  // The host's total leaves exactly the reserve free: nothing can grow before something shrinks.
  explicit Host(std::vector<GuestSpec> guests) : guests_(std::move(guests)) {
    total_kib_ = kDom0Kib + kReserveKib;
    for (const auto& g : guests_) total_kib_ += g.target_kib;
    dom0_ = std::make_unique<XsHandle>(xenstored_.socket());
    for (const auto& g : guests_) make_guest(*dom0_, g, 0);
    // Handles are opened by this thread only (XsHandle sets XENSTORED_PATH for the call).
    xs_ = std::make_unique<XsHandle>(xenstored_.socket());
    tick();  // everything is in place before the thread starts
    thread_ = std::thread([this] { run(); });
  }
  ~Host() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }

  Xenstored& xenstored() { return xenstored_; }
  XsHandle& dom0() { return *dom0_; }
  const std::string& dir() const { return dir_.path(); }
  std::string host_file() const { return dir_.path() + "/host-memory"; }
  std::uint64_t total_kib() const { return total_kib_; }

  std::uint64_t target_kib(unsigned domid) {
    std::string value;
    if (dom0_->read("/local/domain/" + std::to_string(domid) + "/memory/target", &value) != 0) {
      return 0;
    }
    return std::stoull(value);
  }

  // A target change the toolstack saw: in which of its passes, from what, to what.
  struct Change {
    std::uint64_t pass;
    unsigned domid;
    std::uint64_t from_kib, to_kib;
  };
  std::vector<Change> changes() {
    std::lock_guard lock(mutex_);
    return changes_;
  }
  // The most the guests and dom0 held together in any pass.
  std::uint64_t peak_kib() {
    std::lock_guard lock(mutex_);
    return peak_kib_;
  }

  // What libxl does when a domain is destroyed (between two passes of the toolstack, whose
  // writes would otherwise bring keys of the domain back).
  void destroy(unsigned domid) {
    std::lock_guard pass(pass_mutex_);
    {
      std::lock_guard lock(mutex_);
      std::erase_if(guests_, [&](const GuestSpec& g) { return g.domid == domid; });
    }
    last_target_.erase(domid);
    xs_release_domain(dom0_->get(), domid);
    dom0_->rm("/local/domain/" + std::to_string(domid));
  }
  // xenstored restarted: its state is lost, so the toolstack lays the guests out again, at their
  // first targets (what a host whose toolstack restores its domains would do).
  void restart_xenstored() {
    std::lock_guard pass(pass_mutex_);
    xenstored_.restart();
    dom0_ = std::make_unique<XsHandle>(xenstored_.socket());
    xs_ = std::make_unique<XsHandle>(xenstored_.socket());
    std::vector<GuestSpec> guests;
    {
      std::lock_guard lock(mutex_);
      guests = guests_;
    }
    for (const auto& g : guests) make_guest(*dom0_, g, 0);
    last_target_.clear();
  }
  // A new domain under a domid used before (a new uuid for each generation).
  void create(const GuestSpec& guest, unsigned generation) {
    std::lock_guard pass(pass_mutex_);
    make_guest(*dom0_, guest, generation);
    std::lock_guard lock(mutex_);
    guests_.push_back(guest);
  }

 private:
  void make_guest(XsHandle& dom0, const GuestSpec& g, unsigned generation) {
    const std::string home = "/local/domain/" + std::to_string(g.domid);
    REQUIRE(dom0.write(home + "/name", g.name) == 0);
    REQUIRE(dom0.write(home + "/vm", "/vm/" + uuid_of(g.domid, generation)) == 0);
    REQUIRE(dom0.write(home + "/memory/static-max", std::to_string(g.static_max_kib)) == 0);
    REQUIRE(dom0.write(home + "/memory/target", std::to_string(g.target_kib)) == 0);
    REQUIRE(dom0.mkdir(home + "/data") == 0);
    xs_permissions readable[2] = {{0, XS_PERM_NONE}, {g.domid, XS_PERM_READ}};
    xs_permissions owned[1] = {{g.domid, XS_PERM_NONE}};
    for (const char* p : {"", "/name", "/vm", "/memory", "/memory/target", "/memory/static-max"}) {
      REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, (home + p).c_str(), readable, 2));
    }
    REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, (home + "/data").c_str(), owned, 1));
    REQUIRE(xs_introduce_domain(dom0.get(), g.domid, 1000 + g.domid, 1));
  }

  // What the guest's agent would publish, holding `target_kib`.
  static publish::GuestStats stats_of(const GuestSpec& g, std::uint64_t target_kib,
                                      std::uint64_t pass) {
    publish::GuestStats s;
    s.layout = publish::kLayoutVersion;
    s.agent = "xenballoond 0.1.0";
    s.heartbeat_unix_seconds = 1'800'000'000 + static_cast<std::int64_t>(pass);
    s.mode = "directed";
    s.policy = "pressure";
    s.target_kib = target_kib;
    s.floor_kib = 64 * kMib;
    s.current_kib = target_kib;
    auto set = [&](std::string_view field, std::uint64_t kib) {
      s.meminfo_kib.known[*publish::meminfo_index(field)] = kib;
    };
    set("MemTotal", target_kib);
    const std::uint64_t used = std::min(g.committed_as_kib, target_kib);
    set("MemFree", target_kib - used);
    set("MemAvailable", target_kib - used);
    set("Committed_AS", g.committed_as_kib);
    s.vmstat.known[*publish::vmstat_index("pswpin")] = 0;
    s.vmstat.known[*publish::vmstat_index("pgmajfault")] = 0;
    s.vmstat.known[*publish::vmstat_index("workingset_refault_file")] = 0;
    s.uptime_seconds = 1000.0 + static_cast<double>(pass) * 0.05;
    s.idle_seconds = 0;
    s.psi_some = publish::Psi{0, 0, 0, 0};
    s.psi_full = publish::Psi{0, 0, 0, 0};
    return s;
  }

  // One pass of the stand-in toolstack: each guest holds its target at once (and says so in
  // what it publishes), and the host memory file says what is left.
  void tick() {
    std::lock_guard pass(pass_mutex_);
    XsHandle& xs = *xs_;
    std::vector<GuestSpec> guests;
    {
      std::lock_guard lock(mutex_);
      guests = guests_;
    }
    std::uint64_t held = kDom0Kib;
    for (const auto& g : guests) {
      const std::string home = "/local/domain/" + std::to_string(g.domid);
      std::string text;
      if (xs.read(home + "/memory/target", &text) != 0) continue;
      const std::uint64_t target = std::stoull(text);
      held += target;
      auto& last = last_target_[g.domid];
      const bool changed = last != 0 && last != target;
      if (changed) {
        std::lock_guard lock(mutex_);
        changes_.push_back(Change{pass_, g.domid, last, target});
      }
      // Publish on a change and every 10 passes (half a second), as an agent would.
      if (g.agent && (last == 0 || changed || pass_ % 10 == 0)) {
        for (const auto& [key, value] : publish::encode(stats_of(g, target, pass_)).values) {
          xs.write(home + "/data/xenballoon/" + key, value);
        }
      }
      last = target;
    }
    {
      std::lock_guard lock(mutex_);
      peak_kib_ = std::max(peak_kib_, held);
    }
    const std::uint64_t free_kib = total_kib_ > held ? total_kib_ - held : 0;
    spit(host_file(), "total_kib " + std::to_string(total_kib_) + "\nfree_kib " +
                          std::to_string(free_kib) + "\n");
    ++pass_;
  }

  void run() {
    while (running_) {
      tick();
      std::this_thread::sleep_for(50ms);
    }
  }

  TempDir dir_;
  Xenstored xenstored_;
  std::unique_ptr<XsHandle> dom0_;
  std::uint64_t total_kib_ = 0;
  std::mutex pass_mutex_;         // held through a pass of the toolstack
  std::unique_ptr<XsHandle> xs_;  // the toolstack's; under pass_mutex_
  std::mutex mutex_;
  std::vector<GuestSpec> guests_;                  // under mutex_
  std::vector<Change> changes_;                    // under mutex_
  std::uint64_t peak_kib_ = 0;                     // under mutex_
  std::map<unsigned, std::uint64_t> last_target_;  // under pass_mutex_
  std::uint64_t pass_ = 0;                         // under pass_mutex_
  std::atomic<bool> running_{true};
  std::thread thread_;
};

// busy needs more than its target; idle needs far less; pinned is configured never to change.
const GuestSpec kBusy{1, "busy", 1024 * kMib, 2048 * kMib, 1400 * kMib};
const GuestSpec kIdle{2, "idle", 1024 * kMib, 2048 * kMib, 200 * kMib};
const GuestSpec kPinned{3, "pinned", 1024 * kMib, 2048 * kMib, 300 * kMib};

std::string config_yaml(std::uint16_t port, const std::string& pidfile,
                        const std::string& extra = "") {
  return "interval_seconds: 1\n"
         "host:\n"
         "  reserve_mib: 256\n"
         "  dom0_mib: 512\n"
         "stuck_after_seconds: 30\n"
         "guests:\n"
         "  - match: pinned\n"
         "    pinned: true\n"
         "web:\n"
         "  listen_address: \"127.0.0.1:" +
         std::to_string(port) +
         "\"\n"
         "pidfile: " +
         pidfile + "\nlog_level: debug\n" + extra;
}

// The balancer binary, killed by PID when the object goes away.
class Balancer {
 public:
  Balancer(Host& host, std::vector<std::string> extra_flags = {}, std::string extra_yaml = "",
           bool with_host_file = true) {
    port_ = free_port();
    std::ofstream(config_path()) << config_yaml(port_, pidfile(), extra_yaml);
    std::vector<std::string> argv = {XENBALLOON_BALANCER_BIN, "--config", config_path()};
    if (with_host_file) {
      argv.push_back("--host-memory-file");
      argv.push_back(host.host_file());
    }
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    process_ = ChildProcess(argv, host.xenstored().env_for(0), log_path(), log_path());
    wait_until([&] { return http_get(port_, "/metrics").status == 200 || !process_.running(); },
               10s);
  }
  std::string scrape() const { return http_get(port_, "/metrics").body; }
  std::optional<double> metric(const std::string& series) const {
    return value_of(scrape(), series);
  }
  std::string log() const { return slurp(log_path()); }
  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return process_; }
  std::string config_path() const { return dir_.path() + "/balancer.yaml"; }
  std::string pidfile() const { return dir_.path() + "/balancer.pid"; }
  // Waits for this many more steps than now.
  bool wait_steps(int more, std::chrono::milliseconds timeout = 15s) {
    const double start = metric("xenballoon_balancer_steps_total").value_or(0);
    return wait_until(
        [&] { return metric("xenballoon_balancer_steps_total").value_or(0) >= start + more; },
        timeout);
  }

 private:
  std::string log_path() const { return dir_.path() + "/balancer.log"; }
  TempDir dir_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
};

std::string promtool_problems(const std::string& scrape) {
  TempDir tmp;
  std::ofstream(tmp.path() + "/scrape.txt") << scrape;
  auto lint = run_command({"sh", "-c", "promtool check metrics < " + tmp.path() + "/scrape.txt"});
  if (lint.exit_code == 0) return "";
  return "exit " + std::to_string(lint.exit_code) + ": " + lint.out + lint.err;
}

}  // namespace

TEST_CASE("memory moves from an idle guest to a busy one and the host is never overcommitted") {
  Host host({kBusy, kIdle, kPinned});
  Balancer balancer(host);
  REQUIRE(balancer.process().running());

  // busy grows within a bounded time.
  CHECK(wait_until([&] { return host.target_kib(kBusy.domid) > kBusy.target_kib; }, 30s));
  // ... and keeps growing toward its need (Committed_AS + the reserve) while idle gives.
  CHECK(wait_until([&] { return host.target_kib(kBusy.domid) >= kBusy.committed_as_kib; }, 30s));
  INFO(balancer.log());

  const auto changes = host.changes();
  std::optional<std::uint64_t> first_busy_grow, first_idle_shrink;
  for (const auto& c : changes) {
    if (c.domid == kBusy.domid && c.to_kib > c.from_kib && !first_busy_grow) {
      first_busy_grow = c.pass;
    }
    if (c.domid == kIdle.domid && c.to_kib < c.from_kib && !first_idle_shrink) {
      first_idle_shrink = c.pass;
    }
    CHECK(c.domid != kPinned.domid);  // never changed
  }
  REQUIRE(first_busy_grow);
  REQUIRE(first_idle_shrink);
  // Nothing was free beyond the reserve: the memory came from idle, which gave it first.
  CHECK(*first_idle_shrink < *first_busy_grow);
  CHECK(host.target_kib(kIdle.domid) < kIdle.target_kib);
  CHECK(host.target_kib(kPinned.domid) == kPinned.target_kib);
  // The guests and dom0 never held more than the host minus its reserve.
  CHECK(host.peak_kib() <= host.total_kib() - kReserveKib);

  // What /metrics says agrees with xenstore (once a step has passed without a change of busy's).
  REQUIRE(balancer.wait_steps(2));
  CHECK(wait_until(
      [&] {
        const std::uint64_t before = host.target_kib(kBusy.domid);
        const auto applied =
            balancer.metric("xenballoon_balancer_applied_target_bytes{" + labels(kBusy) + "}");
        return applied == static_cast<double>(before * 1024) &&
               host.target_kib(kBusy.domid) == before;
      },
      10s));
  const std::string scrape = balancer.scrape();
  CHECK(value_of(scrape,
                 "xenballoon_balancer_guest_state{" + labels(kPinned) + ",state=\"pinned\"}") == 1);
  CHECK(value_of(scrape, "xenballoon_balancer_guest_state{" + labels(kBusy) + ",state=\"ok\"}") ==
        1);
  CHECK(value_of(scrape, "xenballoon_balancer_need_bytes{" + labels(kBusy) + "}") >=
        1400.0 * 1024 * 1024);
  CHECK(value_of(scrape, "xenballoon_balancer_dry_run") == 0);
  CHECK(value_of(scrape, "xenballoon_balancer_balancing") == 1);
  CHECK(value_of(scrape, "xenballoon_balancer_host_total_bytes") ==
        static_cast<double>(host.total_kib() * 1024));
  CHECK(value_of(scrape, "xenballoon_balancer_host_reserved_bytes") == 256.0 * 1024 * 1024);
  CHECK(value_of(scrape, "xenballoon_balancer_dom0_bytes") == 512.0 * 1024 * 1024);
  CHECK(value_of(scrape, "xenballoon_balancer_target_writes_total{direction=\"up\"}") >= 1);
  CHECK(value_of(scrape, "xenballoon_balancer_target_writes_total{direction=\"down\"}") >= 1);
  CHECK(value_of(scrape, "xenballoon_balancer_target_write_errors_total") == 0);
  CHECK(promtool_problems(scrape).empty());
  CHECK(http_get(balancer.port(), "/healthz").status == 200);

  // Every change is logged with the guest, its domid, old -> new and the reason.
  CHECK(balancer.log().find("guest idle (domid 2): target 1048576 -> ") != std::string::npos);
  CHECK(balancer.log().find("guest busy (domid 1): target 1048576 -> ") != std::string::npos);

  // SIGTERM stops at once and leaves the targets where they are.
  const std::uint64_t busy_before = host.target_kib(kBusy.domid);
  const int status = balancer.process().stop(SIGTERM, 10s);
  CHECK((status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(host.target_kib(kBusy.domid) == busy_before);
  CHECK(balancer.log().find("stopping: every target is left as it is") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(balancer.pidfile()));
}

TEST_CASE("every family the balancer shows is documented in docs/metrics.md") {
  Host host({kBusy, kIdle, kPinned});
  Balancer balancer(host);
  REQUIRE(balancer.wait_steps(2));
  const auto documented = documented_families();
  REQUIRE_FALSE(documented.empty());
  std::istringstream lines(balancer.scrape());
  std::string line;
  int families = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string family = line.substr(7, line.find(' ', 7) - 7);
    ++families;
    INFO(family);
    CHECK(is_documented(documented, family));
  }
  CHECK(families >= 20);
}

TEST_CASE("a dry run changes no target but exports the proposed ones") {
  Host host({kBusy, kIdle, kPinned});
  Balancer balancer(host, {"--dry-run"});
  REQUIRE(balancer.wait_steps(3));
  INFO(balancer.log());
  CHECK(host.target_kib(kBusy.domid) == kBusy.target_kib);
  CHECK(host.target_kib(kIdle.domid) == kIdle.target_kib);
  CHECK(host.target_kib(kPinned.domid) == kPinned.target_kib);
  CHECK(host.changes().empty());
  const std::string scrape = balancer.scrape();
  CHECK(value_of(scrape, "xenballoon_balancer_dry_run") == 1);
  const auto proposed =
      value_of(scrape, "xenballoon_balancer_proposed_target_bytes{" + labels(kIdle) + "}");
  REQUIRE(proposed);
  CHECK(*proposed < static_cast<double>(kIdle.target_kib * 1024));
  CHECK(value_of(scrape, "xenballoon_balancer_applied_target_bytes{" + labels(kIdle) + "}") ==
        static_cast<double>(kIdle.target_kib * 1024));
  CHECK(value_of(scrape, "xenballoon_balancer_target_writes_total{direction=\"down\"}") == 0);
  CHECK(balancer.log().find("dry run: guest idle (domid 2): target would be 1048576 -> ") !=
        std::string::npos);
  // dry_run: true in the file does the same.
  Balancer from_file(host, {}, "dry_run: true\n");
  REQUIRE(from_file.wait_steps(2));
  CHECK(host.changes().empty());
  CHECK(from_file.metric("xenballoon_balancer_dry_run") == 1);
}

TEST_CASE("a destroyed guest is dropped from metrics and a reused domid is a new guest") {
  Host host({kBusy, kIdle, kPinned});
  Balancer balancer(host, {"--dry-run"});
  const std::string idle_series = "xenballoon_balancer_applied_target_bytes{" + labels(kIdle) + "}";
  REQUIRE(wait_until([&] { return balancer.metric(idle_series).has_value(); }, 10s));
  CHECK(balancer.metric("xenballoon_balancer_guests") == 3);
  host.destroy(kIdle.domid);
  CHECK(wait_until(
      [&] {
        const std::string s = balancer.scrape();
        return s.find("domid=\"2\"") == std::string::npos &&
               value_of(s, "xenballoon_balancer_guests") == 2;
      },
      10s));
  CHECK(balancer.log().find("domid 2 is gone") != std::string::npos);

  // The domid comes back as another domain: a new guest, under its new uuid only.
  host.create(kIdle, 1);
  CHECK(wait_until(
      [&] {
        return balancer.metric("xenballoon_balancer_applied_target_bytes{" + labels(kIdle, 1) + "}")
            .has_value();
      },
      10s));
  CHECK_FALSE(balancer.metric(idle_series).has_value());
  CHECK(balancer.process().running());
}

TEST_CASE("a target is written only to the domain and from the target a step planned for") {
  Host host({kBusy});
  auto client = xenballoon::xenstore::Client::open(host.xenstored().socket());
  REQUIRE(client.ok());
  xenballoon::dom0::XenstoreTargetSetter setter(**client);
  using xenballoon::balancer::PlannedFrom;
  using xenballoon::balancer::set_target_if_unchanged;
  const PlannedFrom planned{uuid_of(kBusy.domid), kBusy.target_kib};

  // The domid is another domain's now (another uuid): nothing is written.
  auto other =
      set_target_if_unchanged(**client, setter, kBusy.domid,
                              PlannedFrom{uuid_of(kBusy.domid, 7), kBusy.target_kib}, 1536 * kMib);
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().errnum == ESTALE);
  CHECK(other.error().message.find("is now another domain (uuid " + uuid_of(kBusy.domid)) !=
        std::string::npos);
  CHECK(host.target_kib(kBusy.domid) == kBusy.target_kib);
  // No uuid to compare with is never a match.
  CHECK_FALSE(set_target_if_unchanged(**client, setter, kBusy.domid,
                                      PlannedFrom{"", kBusy.target_kib}, 1536 * kMib)
                  .ok());
  // The target moved since the step read it (xl mem-set, a xenstored restart): not written.
  auto moved = set_target_if_unchanged(**client, setter, kBusy.domid,
                                       PlannedFrom{uuid_of(kBusy.domid), 900 * kMib}, 1536 * kMib);
  REQUIRE_FALSE(moved.ok());
  CHECK(moved.error().errnum == ESTALE);
  CHECK(moved.error().message.find("memory/target is 1048576 KiB now, the step planned from "
                                   "921600 KiB") != std::string::npos);
  CHECK(host.target_kib(kBusy.domid) == kBusy.target_kib);
  // A domain that is gone.
  auto gone =
      set_target_if_unchanged(**client, setter, 9, PlannedFrom{uuid_of(9), 1024}, 1536 * kMib);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().errnum == ENOENT);

  // What it was planned for: written, and still refused above static-max.
  CHECK(set_target_if_unchanged(**client, setter, kBusy.domid, planned, 1536 * kMib).ok());
  CHECK(host.target_kib(kBusy.domid) == 1536 * kMib);
  auto too_big = set_target_if_unchanged(**client, setter, kBusy.domid,
                                         PlannedFrom{uuid_of(kBusy.domid), 1536 * kMib},
                                         kBusy.static_max_kib + 1);
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().errnum == EINVAL);
  CHECK(host.target_kib(kBusy.domid) == 1536 * kMib);
}

TEST_CASE("a guest without an agent is uncooperative, said once, and keeps its target") {
  const GuestSpec quiet{4, "quiet", 512 * kMib, 1024 * kMib, 0, false};
  Host host({kBusy, kIdle, quiet});
  Balancer balancer(host);
  CHECK(wait_until([&] { return host.target_kib(kBusy.domid) > kBusy.target_kib; }, 30s));
  REQUIRE(balancer.wait_steps(3));
  CHECK(host.target_kib(quiet.domid) == quiet.target_kib);
  CHECK(balancer.metric("xenballoon_balancer_guest_state{" + labels(quiet) +
                        ",state=\"uncooperative\"}") == 1);
  CHECK(balancer.metric("xenballoon_balancer_guest_state{" + labels(quiet) + ",state=\"ok\"}") ==
        0);
  const std::string log = balancer.log();
  const std::string said = "guest quiet (domid 4) is uncooperative";
  const auto first = log.find(said);
  REQUIRE(first != std::string::npos);
  CHECK(log.find(said, first + 1) == std::string::npos);
  CHECK(host.peak_kib() <= host.total_kib() - kReserveKib);
}

TEST_CASE("a xenstored restart is survived: the balancer reconnects and balances again") {
  Host host({kBusy, kIdle, kPinned});
  Balancer balancer(host);
  REQUIRE(wait_until([&] { return host.target_kib(kBusy.domid) > kBusy.target_kib; }, 30s));
  host.restart_xenstored();  // every target back at its first value
  CHECK(host.target_kib(kBusy.domid) == kBusy.target_kib);
  CHECK(wait_until(
      [&] {
        return balancer.metric("xenballoon_balancer_xenstore_connected") == 1 &&
               host.target_kib(kBusy.domid) > kBusy.target_kib;
      },
      30s));
  CHECK(host.target_kib(kPinned.domid) == kPinned.target_kib);
  CHECK(host.peak_kib() <= host.total_kib() - kReserveKib);
  CHECK(http_get(balancer.port(), "/healthz").status == 200);
  CHECK(balancer.process().running());
}

TEST_CASE("SIGHUP with a broken configuration keeps the old one and the daemon running") {
  Host host({kBusy, kIdle, kPinned});
  Balancer balancer(host, {"--dry-run"});
  REQUIRE(balancer.wait_steps(1));
  {
    std::ofstream(balancer.config_path())
        << "interval_seconds: 1\npolicy:\n  max_step_fraction: 7\n"
           "  no_such_key: 1\n";
  }
  ::kill(balancer.process().pid(), SIGHUP);
  CHECK(wait_until(
      [&] { return balancer.log().find("keeping the running configuration") != std::string::npos; },
      5s));
  CHECK(balancer.log().find(balancer.config_path() + ":4: policy.no_such_key: ") !=
        std::string::npos);
  CHECK(balancer.process().running());
  CHECK(balancer.wait_steps(2));  // still stepping, every second as before
  CHECK(http_get(balancer.port(), "/healthz").status == 200);

  // A range error found by the checks after parsing is refused the same way.
  { std::ofstream(balancer.config_path()) << "interval_seconds: 0\n"; }
  ::kill(balancer.process().pid(), SIGHUP);
  CHECK(wait_until(
      [&] {
        return balancer.log().find(balancer.config_path() + ":1: interval_seconds: ") !=
               std::string::npos;
      },
      5s));
  CHECK(balancer.process().running());

  // A good one is taken.
  {
    std::ofstream(balancer.config_path())
        << config_yaml(balancer.port(), balancer.pidfile(), "policy:\n  min_step_mib: 32\n");
  }
  ::kill(balancer.process().pid(), SIGHUP);
  CHECK(wait_until(
      [&] { return balancer.log().find("configuration reloaded from") != std::string::npos; }, 5s));
  CHECK(balancer.wait_steps(1));
  CHECK(balancer.metric("xenballoon_balancer_dry_run") == 1);  // --dry-run still holds
}

TEST_CASE("check-config names the file, the line and the key of every problem") {
  TempDir dir;
  const std::string bad = dir.path() + "/bad.yaml";
  {
    std::ofstream(bad) << "interval_seconds: 5\n"
                          "policy:\n"
                          "  max_step_fraction: 0.5\n"
                          "  bogus: 1\n"
                          "guests:\n"
                          "  - match: web\n"
                          "    weight: high\n";
  }
  auto parsed = run_command({XENBALLOON_BALANCER_BIN, "--check-config", "--config", bad});
  CHECK(parsed.exit_code == 1);
  CHECK(parsed.err.find(bad + ":4: policy.bogus: ") != std::string::npos);
  CHECK(parsed.err.find(bad + ":7: guests[0].weight: ") != std::string::npos);

  const std::string out_of_range = dir.path() + "/range.yaml";
  {
    std::ofstream(out_of_range) << "policy:\n"
                                   "  max_step_fraction: 2\n"
                                   "guests:\n"
                                   "  - match: web\n"
                                   "    min_mib: 4096\n"
                                   "    max_mib: 1024\n"
                                   "  - match: web\n"
                                   "    pinned: true\n";
  }
  auto checked = run_command({XENBALLOON_BALANCER_BIN, "--check-config", "-c", out_of_range});
  CHECK(checked.exit_code == 1);
  CHECK(checked.err.find(out_of_range + ":2: policy.max_step_fraction: ") != std::string::npos);
  CHECK(checked.err.find(out_of_range + ":6: guests[0].max_mib: ") != std::string::npos);
  CHECK(checked.err.find(out_of_range + ":7: guests[1].match: ") != std::string::npos);

  // The shipped file is valid and holds every default.
  const std::string shipped =
      std::string(XENBALLOON_SOURCE_DIR) + "/config/xenballoon-balancer.yaml";
  auto good = run_command({XENBALLOON_BALANCER_BIN, "--check-config", "--config", shipped});
  CHECK(good.exit_code == 0);
  CHECK(good.out.find("configuration is valid") != std::string::npos);
}

TEST_CASE("a second instance is refused by the pidfile") {
  Host host({kBusy, kIdle, kPinned});
  Balancer first(host, {"--dry-run"});
  REQUIRE(first.process().running());
  REQUIRE(wait_until([&] { return std::filesystem::exists(first.pidfile()); }, 5s));
  auto second = run_command({XENBALLOON_BALANCER_BIN, "--config", first.config_path(),
                             "--web.listen-address", "127.0.0.1:" + std::to_string(free_port())},
                            host.xenstored().env_for(0), 5s);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("already running") != std::string::npos);
  CHECK(second.err.find(std::to_string(first.process().pid())) != std::string::npos);
  CHECK(first.process().running());
}

TEST_CASE("without host memory figures nothing is balanced and healthz says why") {
  Host host({kBusy, kIdle, kPinned});
  Balancer balancer(host, {}, "", /*with_host_file=*/false);
  REQUIRE(balancer.process().running());
  std::this_thread::sleep_for(2500ms);
  CHECK(host.changes().empty());
  auto health = http_get(balancer.port(), "/healthz");
  CHECK(health.status == 503);
  CHECK(health.body.find("no host memory figures") != std::string::npos);
  const std::string scrape = balancer.scrape();
  CHECK(value_of(scrape, "xenballoon_balancer_balancing") == 0);
  CHECK(value_of(scrape, "xenballoon_balancer_guests") == 3);
  CHECK(scrape.find("xenballoon_balancer_host_free_bytes") == std::string::npos);
  // Said once, not every step.
  const std::string log = balancer.log();
  const auto first = log.find("no host memory figures");
  REQUIRE(first != std::string::npos);
  CHECK(log.find("no host memory figures", first + 1) == std::string::npos);
}

TEST_CASE("a host memory file that goes bad stops balancing until it is good again") {
  Host host({kBusy, kIdle, kPinned});
  // Its own file: the stand-in toolstack keeps rewriting the shared one.
  TempDir dir;
  const std::string file = dir.path() + "/host-memory";
  spit(file, "total_kib free_kib\n");
  Balancer balancer(host, {"--dry-run", "--host-memory-file", file}, "", false);
  REQUIRE(balancer.process().running());
  CHECK(wait_until([&] { return balancer.log().find(file + ":1: ") != std::string::npos; }, 5s));
  CHECK(http_get(balancer.port(), "/healthz").status == 503);
  spit(file, std::to_string(host.total_kib()) + " " + std::to_string(kReserveKib) + "\n");
  CHECK(wait_until([&] { return balancer.metric("xenballoon_balancer_balancing") == 1; }, 5s));
  CHECK(wait_until([&] { return http_get(balancer.port(), "/healthz").status == 200; }, 5s));
  CHECK(balancer.log().find("host memory known again") != std::string::npos);
}

TEST_CASE("balancer command line, landing page and the choice of target setter") {
  auto help = run_command({XENBALLOON_BALANCER_BIN, "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--host-memory-file") != std::string::npos);
  CHECK(help.out.find("--target-setter") != std::string::npos);
  auto version = run_command({XENBALLOON_BALANCER_BIN, "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("xenballoon-balancer ", 0) == 0);
  // No hypervisor here: libxl does not open, so asking for it is an error that says why, and the
  // default (auto) falls back to xenstore.
  {
    TempDir dir;
    auto libxl = run_command(
        {XENBALLOON_BALANCER_BIN, "--target-setter", "libxl", "--config", "/dev/null", "--pidfile",
         dir.path() + "/pid", "--web.listen-address", "127.0.0.1:" + std::to_string(free_port())},
        {{"XENSTORED_PATH", dir.path() + "/no-socket"}}, 5s);
    CHECK(libxl.exit_code == 1);
    CHECK(libxl.err.find("--target-setter libxl: ") != std::string::npos);
  }
  CHECK(run_command({XENBALLOON_BALANCER_BIN, "--target-setter", "carrier-pigeon"}).exit_code == 2);
  CHECK(run_command({XENBALLOON_BALANCER_BIN, "--target-setter", "xenstore", "--check-config",
                     "--config", "/dev/null"})
            .exit_code == 0);

  Host host({kBusy});
  Balancer balancer(host, {"--dry-run", "--target-setter", "xenstore"});
  CHECK(balancer.log().find("setting targets through xenstore (memory/target)") !=
        std::string::npos);
  Balancer fallback(host, {"--dry-run"});
  CHECK(
      fallback.log().find("setting targets through xenstore (memory/target): libxl unavailable") !=
      std::string::npos);
  auto landing = http_get(balancer.port(), "/");
  CHECK(landing.status == 200);
  CHECK(landing.body.find("xenballoon-balancer") != std::string::npos);
  CHECK(landing.body.find("href=\"/metrics\"") != std::string::npos);
  CHECK(http_get(balancer.port(), "/nope").status == 404);
}
