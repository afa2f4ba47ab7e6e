// xenstored-lite as a process, driven by the real libxenstore and Debian's xenstore-* tools.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <xen/io/xs_wire.h>

#include "process.h"
#include "xs_client.h"

using namespace xenballoon::testing;
using namespace std::chrono_literals;

namespace {

constexpr auto kQuiet = 150ms;

// dom0 plus guests 1 and 2 laid out as libxl does (memory/ read-only to the guest, data/ its own).
void make_guest(XsHandle& dom0, unsigned domid) {
  std::string home = "/local/domain/" + std::to_string(domid);
  REQUIRE(dom0.write(home + "/name", "guest" + std::to_string(domid)) == 0);
  REQUIRE(dom0.write(home + "/memory/target", "262144") == 0);
  REQUIRE(dom0.write(home + "/memory/static-max", "524288") == 0);
  REQUIRE(dom0.mkdir(home + "/data") == 0);
  std::string r = "r" + std::to_string(domid), n = "n" + std::to_string(domid);
  xs_permissions readable[2] = {{0, XS_PERM_NONE}, {static_cast<unsigned>(domid), XS_PERM_READ}};
  xs_permissions owned[1] = {{static_cast<unsigned>(domid), XS_PERM_NONE}};
  for (const char* p : {"", "/name", "/memory", "/memory/target", "/memory/static-max"}) {
    REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, (home + p).c_str(), readable, 2));
  }
  REQUIRE(xs_set_permissions(dom0.get(), XBT_NULL, (home + "/data").c_str(), owned, 1));
  REQUIRE(xs_introduce_domain(dom0.get(), domid, 1000 + domid, 1));
}

// A raw client for protocol-level checks.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { ::close(fd_); }
  void send_raw(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  void send(std::uint32_t type, std::uint32_t req_id, const std::string& payload,
            std::uint32_t len_override = 0) {
    xsd_sockmsg hdr{type, req_id, 0,
                    len_override ? len_override : static_cast<std::uint32_t>(payload.size())};
    send_raw(std::string(reinterpret_cast<char*>(&hdr), sizeof hdr) + payload);
  }
  // Reads one message; type 0xffffffff when the peer closed or timed out.
  std::pair<xsd_sockmsg, std::string> receive() {
    xsd_sockmsg hdr{0xffffffffu, 0, 0, 0};
    if (!read_exact(reinterpret_cast<char*>(&hdr), sizeof hdr)) return {{0xffffffffu, 0, 0, 0}, ""};
    std::string payload(hdr.len, '\0');
    if (!read_exact(payload.data(), hdr.len)) return {{0xffffffffu, 0, 0, 0}, ""};
    return {hdr, payload};
  }
  bool closed_by_peer() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool read_exact(char* buf, std::size_t len) {
    std::size_t got = 0;
    while (got < len) {
      ssize_t n = ::recv(fd_, buf + got, len - got, 0);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  }
  int fd_ = -1;
};

}  // namespace

TEST_CASE("read, write, list, rm and mkdir round trips as dom0") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  REQUIRE(dom0);

  CHECK(dom0.write("/a/b/c", "hello") == 0);
  std::string value;
  CHECK(dom0.read("/a/b/c", &value) == 0);
  CHECK(value == "hello");
  CHECK(dom0.read("/a/b", &value) == 0);  // created on the way, empty
  CHECK(value.empty());

  CHECK(dom0.write("/a/empty", "") == 0);
  CHECK(dom0.read("/a/empty", &value) == 0);
  CHECK(value.empty());

  std::string binary("x\0y\xff\x01z", 6);
  CHECK(dom0.write("/a/bin", binary) == 0);
  CHECK(dom0.read("/a/bin", &value) == 0);
  CHECK(value == binary);

  std::vector<std::string> children;
  CHECK(dom0.list("/a", &children) == 0);
  CHECK(children == std::vector<std::string>{"b", "empty", "bin"});  // creation order

  CHECK(dom0.mkdir("/a/dir") == 0);
  CHECK(dom0.mkdir("/a/dir") == 0);  // exists already: fine, as xenstored
  CHECK(dom0.rm("/a/b") == 0);
  CHECK(dom0.read("/a/b/c", &value) == ENOENT);
  CHECK(dom0.rm("/a/missing") == 0);          // parent exists: fine
  CHECK(dom0.rm("/nope/missing") == ENOENT);  // parent missing
  CHECK(dom0.list("/a", &children) == 0);
  CHECK(children == std::vector<std::string>{"empty", "bin", "dir"});
  CHECK(dom0.list("/missing", &children) == ENOENT);
  CHECK(dom0.write("//bad", "x") == EINVAL);
  CHECK(dom0.write("/bad/", "x") == EINVAL);
  CHECK(dom0.write("/bad path", "x") == EINVAL);
  CHECK(dom0.rm("/") == EINVAL);

  // Relative paths of dom0 resolve below /local/domain/0.
  CHECK(dom0.write("rel", "1") == 0);
  CHECK(dom0.read("/local/domain/0/rel", &value) == 0);
  CHECK(value == "1");
}

TEST_CASE("a directory larger than one message is listed through DIRECTORY_PART") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    std::string name = "child-with-a-long-name-" + std::to_string(i);
    expected.push_back(name);
    REQUIRE(dom0.write("/big/" + name, "v") == 0);
  }
  std::vector<std::string> children;
  REQUIRE(dom0.list("/big", &children) == 0);  // > 4096 bytes: libxenstore falls back
  CHECK(children == expected);
}

TEST_CASE("guest permissions: own data/ writable, memory/ and other domains refused") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  make_guest(dom0, 1);
  make_guest(dom0, 2);
  REQUIRE(wait_for_socket(xsd.domain_socket(1), 2s));
  XsHandle guest(xsd.domain_socket(1));
  REQUIRE(guest);

  std::string value;
  CHECK(guest.write("data/x", "42") == 0);
  CHECK(dom0.read("/local/domain/1/data/x", &value) == 0);
  CHECK(value == "42");
  CHECK(guest.read("memory/target", &value) == 0);
  CHECK(value == "262144");
  CHECK(guest.write("memory/target", "1") == EACCES);
  CHECK(guest.write("memory/new-key", "1") == EACCES);
  CHECK(guest.write("/local/domain/2/data/x", "1") == EACCES);
  CHECK(guest.read("/local/domain/2/name", &value) == EACCES);
  CHECK(guest.read("/local/domain/2/nothing-here", &value) == EACCES);  // no existence leak
  CHECK(guest.read("data/nothing-here", &value) == ENOENT);
  std::vector<std::string> children;
  CHECK(guest.list("/", &children) == EACCES);

  // The node the guest created belongs to it and inherits data/'s ACL.
  unsigned num = 0;
  xs_permissions* perms = xs_get_permissions(guest.get(), XBT_NULL, "data/x", &num);
  REQUIRE(perms);
  CHECK(num == 1);
  CHECK(perms[0].id == 1);
  CHECK(perms[0].perms == XS_PERM_NONE);
  std::free(perms);

  // A guest may not hand its node to someone else; dom0 may do anything.
  xs_permissions give_away[1] = {{2, XS_PERM_NONE}};
  CHECK_FALSE(xs_set_permissions(guest.get(), XBT_NULL, "data/x", give_away, 1));
  CHECK(errno == EPERM);
  xs_permissions widen[2] = {{1, XS_PERM_NONE}, {2, XS_PERM_READ}};
  CHECK(xs_set_permissions(guest.get(), XBT_NULL, "data/x", widen, 2));
  CHECK_FALSE(xs_set_permissions(guest.get(), XBT_NULL, "memory/target", widen, 2));
  CHECK(errno == EACCES);
  CHECK(dom0.write("/local/domain/1/memory/target", "131072") == 0);
  CHECK(dom0.write("/local/domain/2/data/y", "1") == 0);
}

TEST_CASE("how many watches a guest kernel holds itself is set by --guest-kernel-watches") {
  Xenstored xsd({"--guest-kernel-watches", "0"});
  XsHandle dom0(xsd.socket());
  make_guest(dom0, 1);
  REQUIRE(wait_for_socket(xsd.domain_socket(1), 2s));
  XsHandle guest(xsd.domain_socket(1));
  int ok = 0, err = 0;
  for (int i = 0; i < 200 && err == 0; ++i) {
    err = guest.watch("data/w" + std::to_string(i), "t");
    if (err == 0) ++ok;
  }
  CHECK(err == E2BIG);
  CHECK(ok == 129);  // xenstored's '>' check, nothing held by a kernel
}

TEST_CASE("quotas: entry size, nodes, watches, transactions and the payload limit") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  make_guest(dom0, 1);
  REQUIRE(wait_for_socket(xsd.domain_socket(1), 2s));
  XsHandle guest(xsd.domain_socket(1));

  SECTION("entry size counts the whole record as C xenstored does") {
    // record = 24-byte header + 8 per permission + value: one permission leaves 2015 bytes.
    CHECK(guest.write("data/fits", std::string(2015, 'a')) == 0);
    CHECK(guest.write("data/too-big", std::string(2016, 'a')) == ENOSPC);
    CHECK(guest.write("data/way-too-big", std::string(4000, 'a')) == ENOSPC);
    CHECK(dom0.write("/local/domain/1/data/dom0-big", std::string(4000, 'a')) == 0);
    std::string value;
    CHECK(guest.read("data/too-big", &value) == ENOENT);
  }

  SECTION("1000 nodes per domain") {
    int written = 0, last_err = 0;
    for (int i = 0; i < 1100 && last_err == 0; ++i) {
      last_err = guest.write("data/n" + std::to_string(i / 100) + "/" + std::to_string(i), "x");
      if (last_err == 0) ++written;
    }
    CHECK(last_err == ENOSPC);
    // data/ itself is the guest's, plus the 10 directories n0..n9 it created on the way.
    CHECK(written == 1000 - 1 - 10);
    CHECK(dom0.write("/local/domain/1/data/from-dom0", "x") == 0);  // dom0 is not limited
  }

  SECTION("128 watches per domain, the guest kernel's own included, as on a real guest") {
    int ok = 0, err = 0;
    for (int i = 0; i < 200 && err == 0; ++i) {
      err = guest.watch("data/w" + std::to_string(i), "t");
      if (err == 0) ++ok;
    }
    CHECK(err == E2BIG);
    // xenstored lets 129 through ('>' check); a guest kernel holds 6 itself: 123 remain.
    CHECK(ok == 123);
    // dom0 has no watch quota.
    XsHandle many(xsd.socket());
    int dom0_ok = 0;
    for (int i = 0; i < 300; ++i) dom0_ok += many.watch("/w" + std::to_string(i), "t") == 0;
    CHECK(dom0_ok == 300);
  }

  SECTION("10 transactions per domain (xenstored lets one more through)") {
    std::vector<xs_transaction_t> open;
    for (int i = 0; i < 20; ++i) {
      xs_transaction_t t = xs_transaction_start(guest.get());
      if (t == XBT_NULL) {
        CHECK(errno == ENOSPC);
        break;
      }
      open.push_back(t);
    }
    CHECK(open.size() == 11);
    for (auto t : open) xs_transaction_end(guest.get(), t, true);
    xs_transaction_t again = xs_transaction_start(guest.get());
    CHECK(again != XBT_NULL);
    xs_transaction_end(guest.get(), again, true);
  }

  SECTION("payload above 4096 bytes") {
    // libxenstore refuses before sending; a raw client gets E2BIG and is disconnected.
    CHECK(dom0.write("/x", std::string(5000, 'a')) == E2BIG);
    RawClient raw(xsd.socket());
    raw.send(XS_WRITE, 7, std::string(5000, 'a'));
    auto [hdr, payload] = raw.receive();
    CHECK(hdr.type == XS_ERROR);
    CHECK(hdr.req_id == 7);
    CHECK(payload == std::string("E2BIG\0", 6));
    CHECK(raw.closed_by_peer());
    std::string value;
    CHECK(dom0.read("/local/domain/1/name", &value) == 0);  // the daemon carries on
  }
}

TEST_CASE("watches fire for writes and removals below the path with the right token") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  make_guest(dom0, 1);
  XsHandle watcher(xsd.socket());
  REQUIRE(watcher.watch("/local/domain/1/data", "tok-data") == 0);
  auto initial = watcher.next_event(1s);
  REQUIRE(initial);
  CHECK(*initial == std::make_pair(std::string("/local/domain/1/data"), std::string("tok-data")));
  CHECK(watcher.watch("/local/domain/1/data", "tok-data") == EEXIST);

  CHECK(dom0.write("/local/domain/1/data/a/b", "1") == 0);
  auto events = watcher.wait_events(1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].first == "/local/domain/1/data/a/b");
  CHECK(events[0].second == "tok-data");

  CHECK(dom0.write("/local/domain/1/name", "elsewhere") == 0);  // not below: no event
  CHECK(watcher.drain_events(kQuiet).empty());

  // Removing a subtree fires for the removed node (watches on deeper nodes fire exactly).
  XsHandle deep(xsd.socket());
  REQUIRE(deep.watch("/local/domain/1/data/a/b", "tok-deep") == 0);
  REQUIRE(deep.next_event(1s));
  CHECK(dom0.rm("/local/domain/1/data/a") == 0);
  events = watcher.wait_events(1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].first == "/local/domain/1/data/a");
  auto deep_events = deep.wait_events(1);
  REQUIRE(deep_events.size() == 1);
  CHECK(deep_events[0] ==
        std::make_pair(std::string("/local/domain/1/data/a/b"), std::string("tok-deep")));

  // A guest's relative watch reports relative paths; it sees no event for nodes it cannot read.
  XsHandle guest(xsd.domain_socket(1));
  REQUIRE(guest.watch("data", "g") == 0);
  auto first = guest.next_event(1s);
  REQUIRE(first);
  CHECK(first->first == "data");
  CHECK(dom0.write("/local/domain/1/data/z", "1") == 0);
  auto rel = guest.next_event(1s);
  REQUIRE(rel);
  CHECK(rel->first == "data/z");
  REQUIRE(guest.watch("/local/domain/0", "dom0-home") == 0);
  CHECK(guest.wait_events(1).size() == 1);  // the initial event comes whatever the permissions
  CHECK(dom0.write("/local/domain/0/secret", "1") == 0);
  CHECK(guest.drain_events(kQuiet).empty());

  CHECK(watcher.wait_events(1).size() == 1);  // data/z
  CHECK(watcher.unwatch("/local/domain/1/data", "tok-data") == 0);
  CHECK(watcher.unwatch("/local/domain/1/data", "tok-data") == ENOENT);
  CHECK(dom0.write("/local/domain/1/data/after", "1") == 0);
  CHECK(watcher.drain_events(kQuiet).empty());
}

TEST_CASE("transactions are isolated and a conflicting commit gets EAGAIN") {
  Xenstored xsd;
  XsHandle a(xsd.socket()), b(xsd.socket());
  REQUIRE(a.write("/t/x", "0") == 0);

  xs_transaction_t ta = xs_transaction_start(a.get());
  xs_transaction_t tb = xs_transaction_start(b.get());
  REQUIRE(ta != XBT_NULL);
  REQUIRE(tb != XBT_NULL);
  std::string value;
  CHECK(a.read("/t/x", &value, ta) == 0);
  CHECK(b.read("/t/x", &value, tb) == 0);
  CHECK(a.write("/t/x", "a", ta) == 0);
  CHECK(b.write("/t/x", "b", tb) == 0);
  CHECK(a.read("/t/x", &value, ta) == 0);
  CHECK(value == "a");  // sees its own write
  CHECK(b.read("/t/x", &value, tb) == 0);
  CHECK(value == "b");  // not the other's
  CHECK(a.read("/t/x", &value) == 0);
  CHECK(value == "0");  // outside: nothing yet

  CHECK(xs_transaction_end(a.get(), ta, false));  // commit
  errno = 0;
  CHECK_FALSE(xs_transaction_end(b.get(), tb, false));
  CHECK(errno == EAGAIN);
  CHECK(a.read("/t/x", &value) == 0);
  CHECK(value == "a");

  // The retry succeeds.
  tb = xs_transaction_start(b.get());
  CHECK(b.read("/t/x", &value, tb) == 0);
  CHECK(b.write("/t/x", "b", tb) == 0);
  CHECK(xs_transaction_end(b.get(), tb, false));
  CHECK(a.read("/t/x", &value) == 0);
  CHECK(value == "b");

  // An aborted transaction leaves nothing behind; watches fire at commit only.
  XsHandle watcher(xsd.socket());
  REQUIRE(watcher.watch("/t", "w") == 0);
  CHECK(watcher.wait_events(1).size() == 1);
  xs_transaction_t tc = xs_transaction_start(a.get());
  CHECK(a.write("/t/new", "1", tc) == 0);
  CHECK(watcher.drain_events(kQuiet).empty());
  CHECK(xs_transaction_end(a.get(), tc, true));  // abort
  CHECK(a.read("/t/new", &value) == ENOENT);
  CHECK(watcher.drain_events(kQuiet).empty());
  tc = xs_transaction_start(a.get());
  CHECK(a.write("/t/new", "1", tc) == 0);
  CHECK(xs_transaction_end(a.get(), tc, false));
  auto events = watcher.wait_events(1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].first == "/t/new");
}

TEST_CASE("INTRODUCE and RELEASE create and remove the guest socket and fire special watches") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  XsHandle watcher(xsd.socket());
  REQUIRE(watcher.watch("@introduceDomain", "intro") == 0);
  REQUIRE(watcher.watch("@releaseDomain", "release") == 0);
  CHECK(watcher.wait_events(2).size() == 2);

  CHECK_FALSE(std::filesystem::exists(xsd.domain_socket(5)));
  REQUIRE(xs_introduce_domain(dom0.get(), 5, 1234, 7));
  CHECK(std::filesystem::exists(xsd.domain_socket(5)));
  auto events = watcher.wait_events(1);
  REQUIRE(events.size() == 1);
  CHECK(events[0] == std::make_pair(std::string("@introduceDomain"), std::string("intro")));
  CHECK(xs_is_domain_introduced(dom0.get(), 5));

  char* path = xs_get_domain_path(dom0.get(), 5);
  REQUIRE(path);
  CHECK(std::string(path) == "/local/domain/5");
  std::free(path);

  {
    XsHandle guest(xsd.domain_socket(5));
    REQUIRE(guest);
    CHECK_FALSE(xs_introduce_domain(guest.get(), 6, 1, 1));  // privileged only
    CHECK(errno == EACCES);
  }
  REQUIRE(xs_release_domain(dom0.get(), 5));
  CHECK_FALSE(std::filesystem::exists(xsd.domain_socket(5)));
  events = watcher.wait_events(1);
  REQUIRE(events.size() == 1);
  CHECK(events[0] == std::make_pair(std::string("@releaseDomain"), std::string("release")));
  CHECK_FALSE(xs_release_domain(dom0.get(), 5));
  CHECK(errno == ENOENT);
}

TEST_CASE("Debian's xenstore-* tools work against xenstored-lite") {
  Xenstored xsd;
  auto env = xsd.env_for(0);
  XsHandle dom0(xsd.socket());
  make_guest(dom0, 3);

  CHECK(run_command({"xenstore-write", "/tools/a", "1", "/tools/b/c", "two"}, env).exit_code == 0);
  auto r = run_command({"xenstore-read", "/tools/a", "/tools/b/c"}, env);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "1\ntwo\n");
  r = run_command({"xenstore-list", "/tools"}, env);
  CHECK(r.out == "a\nb\n");
  r = run_command({"xenstore-exists", "/tools/b"}, env);
  CHECK(r.exit_code == 0);
  r = run_command({"xenstore-exists", "/tools/zzz"}, env);
  CHECK(r.exit_code != 0);
  CHECK(run_command({"xenstore-chmod", "/tools/a", "n3", "r0"}, env).exit_code == 0);
  r = run_command({"xenstore-ls", "-fp", "/tools"}, env);
  CHECK(r.out.find("/tools/a = \"1\"   (n3,r0)") != std::string::npos);
  CHECK(r.out.find("/tools/b/c = \"two\"   (n0)") != std::string::npos);
  CHECK(run_command({"xenstore-rm", "/tools/b"}, env).exit_code == 0);
  CHECK(run_command({"xenstore-read", "/tools/b/c"}, env).exit_code != 0);

  // As the guest: relative paths, and a refused write.
  auto genv = xsd.env_for(3);
  r = run_command({"xenstore-read", "memory/target"}, genv);
  CHECK(r.out == "262144\n");
  r = run_command({"xenstore-write", "memory/target", "1"}, genv);
  CHECK(r.exit_code != 0);

  // xenstore-watch -n 2: the initial event plus one change.
  TempDir tmp;
  std::string out = tmp.path() + "/watch.out";
  ChildProcess watch({"xenstore-watch", "-n", "2", "/tools/w"}, env, out, out);
  std::this_thread::sleep_for(300ms);
  CHECK(run_command({"xenstore-write", "/tools/w", "x"}, env).exit_code == 0);
  int status = watch.wait(3s);
  CHECK(status == 0);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "/tools/w\n/tools/w\n");
}

TEST_CASE("200 clients at once, and clients that misbehave, do not disturb the others") {
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  std::vector<std::unique_ptr<XsHandle>> clients;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<XsHandle>(xsd.socket()));
    REQUIRE(*clients.back());
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 200; i += 4) {
        std::string path = "/many/" + std::to_string(i);
        std::string value;
        if (clients[i]->write(path, std::to_string(i * 7)) != 0) ++failures;
        if (clients[i]->read(path, &value) != 0 || value != std::to_string(i * 7)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  std::vector<std::string> children;
  CHECK(dom0.list("/many", &children) == 0);
  CHECK(children.size() == 200);

  // Half a header, half a payload, then gone.
  {
    RawClient half_header(xsd.socket());
    half_header.send_raw(std::string("\x02\x00\x00", 3));
  }
  {
    RawClient half_payload(xsd.socket());
    half_payload.send(XS_WRITE, 1, "/x\0ab", 100);
  }
  // A client that never reads its replies while the others carry on.
  RawClient silent(xsd.socket());
  for (int i = 0; i < 2000; ++i)
    silent.send(XS_READ, static_cast<std::uint32_t>(i), std::string("/many/1\0", 8));
  // Unknown message type: ENOSYS, and the connection stays usable.
  RawClient odd(xsd.socket());
  odd.send(999, 5, "");
  auto [hdr, payload] = odd.receive();
  CHECK(hdr.type == XS_ERROR);
  CHECK(payload == std::string("ENOSYS\0", 7));
  odd.send(XS_READ, 6, std::string("/many/2\0", 8));
  auto [hdr2, payload2] = odd.receive();
  CHECK(hdr2.type == XS_READ);
  CHECK(hdr2.req_id == 6);
  CHECK(payload2 == "14");

  std::string value;
  CHECK(dom0.read("/many/199", &value) == 0);
  CHECK(value == std::to_string(199 * 7));
  CHECK(xsd.process().running());
}

TEST_CASE("1000 simultaneous connections are all served") {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 1100 && limit.rlim_max >= 1100) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  REQUIRE(limit.rlim_cur >= 1100);
  Xenstored xsd;
  XsHandle dom0(xsd.socket());
  REQUIRE(dom0.write("/shared", "v") == 0);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 1000; ++i) clients.push_back(std::make_unique<RawClient>(xsd.socket()));
  for (std::uint32_t i = 0; i < clients.size(); ++i) {
    clients[i]->send(XS_READ, i, std::string("/shared\0", 8));
  }
  int answered = 0;
  for (std::uint32_t i = 0; i < clients.size(); ++i) {
    auto [hdr, payload] = clients[i]->receive();
    if (hdr.type == XS_READ && hdr.req_id == i && payload == "v") ++answered;
  }
  CHECK(answered == 1000);
}

TEST_CASE("the tree loads from a real xenstore-ls capture, dumps on SIGTERM and exits cleanly") {
  TempDir tmp;
  std::string dump = tmp.path() + "/dump.txt";
  std::string capture =
      std::string(XENBALLOON_FIXTURES) + "/real-xen-4.17/dom0-xenstore-ls-domain1.txt";
  auto xsd =
      std::make_unique<Xenstored>(std::vector<std::string>{"--load", capture, "--dump", dump});
  XsHandle dom0(xsd->socket());
  std::string value;
  CHECK(dom0.read("/local/domain/1/memory/target", &value) == 0);
  CHECK(value == "262144");
  unsigned num = 0;
  xs_permissions* perms = xs_get_permissions(dom0.get(), XBT_NULL, "/local/domain/1/data", &num);
  REQUIRE(perms);
  CHECK(num == 1);
  CHECK(perms[0].id == 1);
  std::free(perms);
  CHECK(dom0.write("/local/domain/1/data/added", "line1\nline2\\") == 0);

  auto start = std::chrono::steady_clock::now();
  int status = xsd->process().stop(SIGTERM);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  REQUIRE(status >= 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(std::filesystem::exists(xsd->socket()));

  std::ifstream in(dump);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("/local/domain/1/console/backend-id = \"0\"   (n1,r0)\n") != std::string::npos);
  CHECK(text.find("/local/domain/1/data/added = \"line1\\nline2\\\\\"   (n1)\n") !=
        std::string::npos);

  // The dump loads back to the same tree.
  xsd = std::make_unique<Xenstored>(std::vector<std::string>{"--load", dump});
  XsHandle again(xsd->socket());
  CHECK(again.read("/local/domain/1/data/added", &value) == 0);
  CHECK(value == "line1\nline2\\");
}
