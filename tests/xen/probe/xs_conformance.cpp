// xs_conformance: runs a fixed list of xenstore operations against whatever
// xenstored the real libxenstore reaches (the C xenstored over its socket in
// dom0, or the same daemon through /dev/xen/xenbus inside a guest) and prints
// one line per case:
//
//   CASE <group>.<name> <result>
//
// <result> is OK, an errno name (ENOENT, EACCES, ...), a quoted value, a list
// in [brackets], a permission string like n0,r<guest>, or a short summary.
// ", handle closed" after an errno means that libxenstore closed its
// connection after the failure (it does so whenever write() to the transport
// fails, which /dev/xen/xenbus does for some errors); the probe then opens a
// new handle and goes on.
//
// Values that legitimately differ between runs are normalised: the guest's
// domid prints as <guest>, uuids as <uuid>, counts that depend on what else
// the domain owns are turned into totals (see quota.nodes).  The output of a
// real run is kept in tests/xen/expected/ so that other xenstore
// implementations can be compared against it line by line.
//
// usage: xs_conformance --role dom0|guest [--guest-domid N]
//                       [--domain-cmd "shell command"] [--xenbus]
//   --role guest      run as the guest itself; paths are relative to its home
//   --role dom0       run as dom0; --guest-domid names the running guest
//   --domain-cmd CMD  dom0: a command that creates and destroys a domain, run
//                     while @introduceDomain/@releaseDomain are watched
//   --xenbus          dom0: talk through /dev/xen/xenbus instead of the socket
//   --skip-failing-transaction-start
//                     do not run quota.transactions (and the two cases after
//                     it), whose last transaction start fails on purpose: in a
//                     Linux guest a failed XS_TRANSACTION_START sent through
//                     /dev/xen/xenbus is counted out twice by xenbus_xs.c's
//                     xs_request_exit, the kernel's count of requests in
//                     flight wraps, and the guest can no longer suspend (xl
//                     save times out).  Their lines read SKIPPED.
//
// Timings go to stderr.  Exit status 0 when every case ran (whatever its
// result), 1 when the probe itself could not run.

#include <poll.h>
#include <unistd.h>

extern "C" {  // xenstore.h has no C++ guards
#include <xenstore.h>
}

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

struct ErrnoName {
  int value;
  const char* name;
};
constexpr ErrnoName kErrnoNames[] = {
    {EPERM, "EPERM"},     {ENOENT, "ENOENT"},
    {ESRCH, "ESRCH"},     {EINTR, "EINTR"},
    {EIO, "EIO"},         {E2BIG, "E2BIG"},
    {EBADF, "EBADF"},     {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},   {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},   {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},   {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},   {EINVAL, "EINVAL"},
    {EFBIG, "EFBIG"},     {ENOSPC, "ENOSPC"},
    {EROFS, "EROFS"},     {EPIPE, "EPIPE"},
    {ERANGE, "ERANGE"},   {ENAMETOOLONG, "ENAMETOOLONG"},
    {ENOSYS, "ENOSYS"},   {ENOTEMPTY, "ENOTEMPTY"},
    {ENODATA, "ENODATA"}, {EPROTO, "EPROTO"},
    {EBADMSG, "EBADMSG"}, {EOVERFLOW, "EOVERFLOW"},
    {ENOTSUP, "ENOTSUP"}, {ECONNRESET, "ECONNRESET"},
    {EISCONN, "EISCONN"}, {ETIMEDOUT, "ETIMEDOUT"},
    {EDQUOT, "EDQUOT"},
};

std::string errno_name(int e) {
  if (e == 0) return "NOERROR";
  for (const auto& n : kErrnoNames)
    if (n.value == e) return n.name;
  return "E#" + std::to_string(e);
}

// Printable ASCII stays as it is; anything else becomes \n, \0, \xNN.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == 0) {
      out += "\\0";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

using Event = std::pair<std::string, std::string>;  // path, token
using Perms = std::vector<xs_permissions>;

class Probe {
 public:
  Probe(bool guest, unsigned guest_domid, std::string domain_cmd, bool xenbus,
        bool skip_failing_transaction_start)
      : guest_(guest),
        gid_(guest_domid),
        domain_cmd_(std::move(domain_cmd)),
        xenbus_(xenbus),
        skip_failing_transaction_start_(skip_failing_transaction_start) {}
  ~Probe() {
    if (h_) xs_close(h_);
  }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  int run();

 private:
  // ---------------------------------------------------------------- plumbing
  xs_handle* open_handle() const {
    if (xenbus_) setenv("XENSTORED_PATH", "/dev/xen/xenbus", 1);
    return xs_open(0);
  }
  std::string B(const std::string& rel) const { return base_ + "/" + rel; }
  std::string self_home() const { return "/local/domain/" + std::to_string(guest_ ? gid_ : 0u); }
  std::string other_home() const { return "/local/domain/" + std::to_string(guest_ ? 0u : gid_); }
  std::string guest_node(const std::string& rel) const {
    return guest_ ? rel : "/local/domain/" + std::to_string(gid_) + "/" + rel;
  }
  unsigned self_id() const { return guest_ ? gid_ : 0u; }

  std::string norm(std::string s) const {
    const std::string from = "/local/domain/" + std::to_string(gid_);
    const std::string to = "/local/domain/<guest>";
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p)) {
      const size_t end = p + from.size();
      if (end == s.size() || std::strchr("/ ,]\"", s[end])) {
        s.replace(p, from.size(), to);
        p += to.size();
      } else {
        p = end;
      }
    }
    static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    return std::regex_replace(s, uuid, "<uuid>");
  }
  std::string domid_str(unsigned id) const { return id == gid_ ? "<guest>" : std::to_string(id); }

  void report(const std::string& name, const std::string& result) {
    std::printf("CASE %s %s\n", name.c_str(), result.c_str());
    std::fflush(stdout);
  }

  // After a failed call: the errno name, plus ", handle closed" when
  // libxenstore gave up on the connection (then h is replaced by a new one).
  std::string fail(xs_handle*& h) {
    const int e = errno;
    unsigned len = 0;
    void* v = xs_read(h, XBT_NULL, "domid", &len);
    if (v) {
      std::free(v);
      errno = e;
      return errno_name(e);
    }
    if (errno != EBADF) {
      errno = e;
      return errno_name(e);
    }
    xs_close(h);
    h = open_handle();
    if (h && h == w_) watcher_init();
    errno = e;
    return errno_name(e) + ", handle closed";
  }
  std::string st(bool ok, xs_handle*& h) { return ok ? "OK" : fail(h); }
  std::string st(bool ok) { return st(ok, h_); }

  bool write(const std::string& path, const std::string& value, xs_transaction_t t = XBT_NULL,
             xs_handle* h = nullptr) {
    return xs_write(h ? h : h_, t, path.c_str(), value.data(), value.size());
  }
  bool mkdir(const std::string& path, xs_transaction_t t = XBT_NULL) {
    return xs_mkdir(h_, t, path.c_str());
  }
  bool rm(const std::string& path, xs_transaction_t t = XBT_NULL) {
    return xs_rm(h_, t, path.c_str());
  }
  std::optional<std::string> read_raw(const std::string& path, xs_transaction_t t = XBT_NULL) {
    unsigned len = 0;
    void* v = xs_read(h_, t, path.c_str(), &len);
    if (!v) return std::nullopt;
    std::string s(static_cast<char*>(v), len);
    std::free(v);
    return s;
  }
  std::string rd(const std::string& path, xs_transaction_t t = XBT_NULL) {
    auto v = read_raw(path, t);
    if (!v) return fail(h_);
    return v->size() > 80 ? "len=" + std::to_string(v->size()) : norm(quote(*v));
  }
  std::optional<std::vector<std::string>> dir_raw(const std::string& path,
                                                  xs_transaction_t t = XBT_NULL) {
    unsigned n = 0;
    char** d = xs_directory(h_, t, path.c_str(), &n);
    if (!d) return std::nullopt;
    std::vector<std::string> v(d, d + n);
    std::free(d);
    return v;
  }
  std::string dir(const std::string& path, xs_transaction_t t = XBT_NULL) {
    auto v = dir_raw(path, t);
    if (!v) return fail(h_);
    std::string out = "[";
    for (size_t i = 0; i < v->size(); ++i) {
      if (i) out += ",";
      // the children of /local/domain are domids
      out += (path == "/local/domain" && (*v)[i] == std::to_string(gid_)) ? "<guest>" : (*v)[i];
    }
    return out + "]";
  }
  std::string perms_string(const xs_permissions* p, unsigned n) const {
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      if (i) out += ",";
      switch (p[i].perms & (XS_PERM_READ | XS_PERM_WRITE)) {
        case XS_PERM_READ:
          out += 'r';
          break;
        case XS_PERM_WRITE:
          out += 'w';
          break;
        case XS_PERM_READ | XS_PERM_WRITE:
          out += 'b';
          break;
        default:
          out += 'n';
          break;
      }
      out += domid_str(p[i].id);
      if (p[i].perms & ~(XS_PERM_READ | XS_PERM_WRITE))
        out += "(flags=" + std::to_string(p[i].perms) + ")";
    }
    return out;
  }
  std::string perms(const std::string& path, xs_transaction_t t = XBT_NULL) {
    unsigned n = 0;
    xs_permissions* p = xs_get_permissions(h_, t, path.c_str(), &n);
    if (!p) return fail(h_);
    std::string s = perms_string(p, n);
    std::free(p);
    return s;
  }
  std::optional<unsigned> owner_of(const std::string& path) {
    unsigned n = 0;
    xs_permissions* p = xs_get_permissions(h_, XBT_NULL, path.c_str(), &n);
    if (!p) return std::nullopt;
    std::optional<unsigned> o;
    if (n) o = p[0].id;
    std::free(p);
    return o;
  }
  bool set_perms_raw(const std::string& path, Perms p, xs_transaction_t t = XBT_NULL) {
    return xs_set_permissions(h_, t, path.c_str(), p.data(), p.size());
  }
  std::string set_perms(const std::string& path, Perms p) { return st(set_perms_raw(path, p)); }
  unsigned count_owned(const std::string& path, unsigned owner) {
    unsigned c = 0;
    if (auto o = owner_of(path); o && *o == owner) ++c;
    if (auto kids = dir_raw(path))
      for (const auto& k : *kids) c += count_owned(path + "/" + k, owner);
    return c;
  }

  // ----------------------------------------------------------------- watches
  // w_ is a handle of its own for watches.  It always has a watch on
  // <base>/sync (token "sync"): sync_events() writes a fresh node below it and
  // returns the events that arrived before that node's event.  xenstored
  // delivers a connection's events in order, so those are all the events the
  // operations before the sync caused.
  void watcher_init() {
    xs_fileno(w_);
    xs_watch(w_, B("sync").c_str(), "sync");
    sync_events();  // swallow the initial event
  }
  std::vector<Event> collect(xs_handle* h, const std::function<bool(const Event&)>& stop,
                             int timeout_ms, bool* timed_out = nullptr) {
    std::vector<Event> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    const int fd = xs_fileno(h);
    for (;;) {
      while (char** v = xs_check_watch(h)) {
        Event e{v[XS_WATCH_PATH], v[XS_WATCH_TOKEN]};
        std::free(v);
        if (stop && stop(e)) {
          if (timed_out) *timed_out = false;
          return out;
        }
        out.push_back(std::move(e));
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) break;
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, static_cast<int>(left));
    }
    if (timed_out) *timed_out = true;
    return out;
  }
  // Paths that the probe's own operations can fire: below the base (relative
  // or absolute), or exactly a path watched elsewhere (initial events of /,
  // of the other home, of @ names).
  bool relevant(const std::string& p) const {
    auto below = [&](const std::string& dir) {
      return p.rfind(dir, 0) == 0 && (p.size() == dir.size() || p[dir.size()] == '/');
    };
    return p == "/" || (!p.empty() && p[0] == '@') || p == other_home() || below(base_) ||
           below(self_home() + "/" + base_);
  }
  std::vector<Event> sync_raw(xs_handle* h, bool* timed_out) {
    const std::string marker = B("sync/" + std::to_string(++sync_n_));
    if (!write(marker, "", XBT_NULL, h)) {
      *timed_out = true;
      return {};
    }
    auto ev = collect(
        h, [&](const Event& e) { return e.second == "sync" && ends_with(e.first, marker); }, 30000,
        timed_out);
    // drop the markers themselves, also as seen by other watches (the root),
    // and whatever other domains or daemons wrote meanwhile outside the base
    // (a watch on / or on another home sees that too)
    const std::string rel = B("sync/"), abs = "/" + rel;
    ev.erase(std::remove_if(ev.begin(), ev.end(),
                            [&](const Event& e) {
                              return e.second == "sync" || e.first.rfind(rel, 0) == 0 ||
                                     e.first.find(abs) != std::string::npos || !relevant(e.first);
                            }),
             ev.end());
    return ev;
  }
  std::string sync_events(xs_handle* h = nullptr) {
    bool to = false;
    auto ev = sync_raw(h ? h : w_, &to);
    return fmt_events(ev) + (to ? " (sync timeout)" : "");
  }
  std::string fmt_events(const std::vector<Event>& ev) const {
    std::string s = "[";
    for (size_t i = 0; i < ev.size(); ++i)
      s += (i ? "; " : "") + norm(ev[i].first) + " " + ev[i].second;
    return s + "]";
  }
  // A watch call on a handle of its own that is closed afterwards: for calls
  // that may fail (a failing XS_WATCH makes the guest kernel fail the write,
  // and libxenstore then drops the connection).
  std::string lone_watch(const std::string& path, const std::string& token) {
    xs_handle* h = open_handle();
    if (!h) return "open-" + errno_name(errno);
    std::string r = st(xs_watch(h, path.c_str(), token.c_str()), h);
    xs_close(h);
    return r;
  }

  // ------------------------------------------------------------- case groups
  void basic();
  void paths();
  void access();
  void perms_cases();
  void sizes();
  void transactions();
  void watches();
  void special_watches();
  void quotas();
  void control();

  bool guest_;
  unsigned gid_;
  std::string domain_cmd_;
  bool xenbus_;
  bool skip_failing_transaction_start_;
  xs_handle* h_ = nullptr;
  xs_handle* w_ = nullptr;
  std::string base_ = "data/xsconf";
  unsigned sync_n_ = 0;
};

void Probe::basic() {
  report("write.new", st(write(B("a"), "hello")));
  report("read.new", rd(B("a")));
  report("write.overwrite", st(write(B("a"), "world")));
  report("read.overwrite", rd(B("a")));
  report("write.empty", st(write(B("e"), "")));
  report("read.empty", rd(B("e")));
  report("write.binary", st(write(B("bin"), std::string("a\0b\nc\xff", 6))));
  report("read.binary", rd(B("bin")));
  report("write.deep_creates_parents", st(write(B("p/q/r"), "x")));
  report("read.implicit_parent", rd(B("p/q")));
  report("perms.implicit_parent", perms(B("p/q")));
  report("directory.implicit_parent", dir(B("p")));
  report("mkdir.new", st(mkdir(B("m"))));
  report("read.mkdir_node", rd(B("m")));
  report("directory.mkdir_node", dir(B("m")));
  report("mkdir.existing", st(mkdir(B("m"))));
  report("mkdir.existing_with_value", st(mkdir(B("a"))));
  report("read.after_mkdir_existing_with_value", rd(B("a")));
  report("mkdir.deep_creates_parents", st(mkdir(B("m2/x/y"))));
  report("directory.mkdir_deep_parent", dir(B("m2/x")));
  write(B("d"), "dv");
  write(B("d/c1"), "1");
  report("read.node_with_value_and_children", rd(B("d")));
  report("read.missing", rd(B("nope")));
  report("read.missing_parent", rd(B("nope/deeper")));
  report("directory.missing", dir(B("nope")));
  report("directory.leaf", dir(B("a")));
  write(B("o/zeta"), "");
  write(B("o/alpha"), "");
  write(B("o/mid"), "");
  report("directory.order_of_creation_zeta_alpha_mid", dir(B("o")));
  rm(B("o/alpha"));
  write(B("o/alpha"), "");
  report("directory.order_after_rm_and_recreate_alpha", dir(B("o")));
  report("rm.existing", st(rm(B("a"))));
  report("read.after_rm", rd(B("a")));
  report("rm.missing_parent_exists", st(rm(B("nope"))));
  report("rm.missing_parent_missing", st(rm(B("nope/deeper"))));
  report("rm.subtree", st(rm(B("p"))));
  report("read.below_removed_subtree", rd(B("p/q/r")));
  report("directory.base_after_changes", dir(base_));
}

void Probe::paths() {
  report("path.double_slash", st(write(base_ + "//x", "v")));
  report("path.trailing_slash", st(write(B("x/"), "v")));
  report("path.read_trailing_slash_of_existing", rd(base_ + "/"));
  report("path.space", st(write(B("a b"), "v")));
  report("path.star", st(write(B("a*"), "v")));
  report("path.dot", st(write(B("a.b"), "v")));
  report("path.dotdot_component", st(write(B("../x"), "v")));
  report("path.colon", st(write(B("a:b"), "v")));
  report("path.at_inside", st(write(B("a@b"), "v")));
  report("path.at_start_relative", st(write(B("@x"), "v")));
  report("path.dash_underscore_digits", st(write(B("A-b_9"), "v")));
  report("path.non_ascii", st(write(B("\xc3\xa9"), "v")));
  report("path.empty_write", st(write("", "v")));
  report("path.empty_read", rd(""));
  report("path.read_double_slash_abs", rd("//local"));
  report("path.read_at_unknown_special", rd("@nosuch"));
  rm(B("a@b"));
  rm(B("@x"));
  rm(B("A-b_9"));
  // Longest path accepted for a write, relative and absolute (each attempt
  // removed again so that the parent does not grow).  For a guest the parent
  // node's size quota comes into it: a child's name is part of the parent.
  // `shown` is subtracted from the lengths printed (the home prefix of an
  // absolute path, whose length depends on the domid)
  auto longest = [&](const std::string& prefix, unsigned lo, unsigned hi, unsigned shown = 0) {
    auto n = [&](unsigned v) { return std::to_string(v - shown); };
    // components of 99 characters, so that no single node name gets long
    auto make = [&](unsigned len) {
      std::string p = prefix;
      for (unsigned i = 0; p.size() < len; ++i)
        p += (i % 100 == 99 && p.size() + 1 < len) ? '/' : 'l';
      return p;
    };
    auto ok = [&](unsigned len) {
      const std::string p = make(len);
      const bool r = write(p, "v");
      if (r)
        rm(p.substr(0, p.find('/', prefix.size())));
      else
        fail(h_);
      return r;
    };
    if (ok(hi)) return n(hi) + " (or more)";
    if (!ok(lo)) return std::string("none");
    while (lo + 1 < hi) {
      const unsigned mid = (lo + hi) / 2;
      (ok(mid) ? lo : hi) = mid;
    }
    write(make(hi), "v");
    return n(lo) + " (" + n(hi) + ": " + fail(h_) + ")";
  };
  report("path.longest_relative_write", longest(B("pl/"), 20, 3200));
  const std::string home_slash = self_home() + "/";
  report("path.longest_absolute_write_beyond_home_slash",
         longest(home_slash + B("pa/"), 40, 3200, home_slash.size()));
  rm(B("pl"));
  rm(B("pa"));
}

void Probe::access() {
  report("access.read_own_name", rd("name"));
  {
    auto v = read_raw("domid");
    report("access.read_own_domid",
           v ? quote(*v == std::to_string(gid_) ? "<guest>" : *v) : fail(h_));
  }
  auto target = read_raw("memory/target");
  report("access.read_own_memory_target", target ? "present" : fail(h_));
  if (target)
    report("access.write_own_memory_target_same_value", st(write("memory/target", *target)));
  if (guest_) {
    report("access.rm_own_memory_target", st(rm("memory/target")));
    report("access.mkdir_own_memory_child", st(mkdir("memory/xsconf")));
    report("access.write_own_control_child", st(write("control/xsconf", "x")));
    report("access.write_own_control_shutdown", st(write("control/shutdown", "")));
  }
  report("access.write_own_data_node", st(write("data/xsconf-own", "x")));
  report("access.rm_own_data_node", st(rm("data/xsconf-own")));
  report("access.read_own_home_abs", rd(self_home()));
  report("access.read_own_vm_path", rd("vm"));
  if (auto vm = read_raw("vm")) {
    report("access.read_vm_name", rd(*vm + "/name"));
    report("access.directory_vm", dir(*vm));
  }
  const std::string other = other_home();
  report("access.read_other_home", rd(other));
  report("access.read_other_name", rd(other + "/name"));
  report("access.directory_other_home_has_name", [&] {
    auto v = dir_raw(other);
    if (!v) return fail(h_);
    return std::string(std::find(v->begin(), v->end(), "name") != v->end() ? "yes" : "no");
  }());
  report("access.write_other_data", st(write(other + "/data/xsconf-other", "x")));
  report("access.mkdir_other_home_child", st(mkdir(other + "/xsconf")));
  rm(other + "/data/xsconf-other");
  rm(other + "/xsconf");
  if (guest_) report("access.rm_other_name", st(rm(other + "/name")));
  report("access.read_root", rd("/"));
  {
    auto v = dir_raw("/");
    std::string s = "[";
    if (v)
      for (size_t i = 0; i < v->size(); ++i) s += (i ? "," : "") + (*v)[i];
    report("access.directory_root", v ? s + "]" : fail(h_));
  }
  report("access.directory_local_domain", dir("/local/domain"));
  report("access.write_root_child", st(write("/xsconf-top", "x")));
  rm("/xsconf-top");
  report("access.write_tool_child", st(write("/tool/xsconf", "x")));
  rm("/tool/xsconf");
  auto domain_path = [&](unsigned id) {
    char* p = xs_get_domain_path(h_, id);
    if (!p) return fail(h_);
    std::string s = norm(p);
    std::free(p);
    return s;
  };
  report("access.get_domain_path_self", domain_path(self_id()));
  report("access.get_domain_path_other", domain_path(guest_ ? 0 : gid_));
  report("access.get_domain_path_unknown_4321", domain_path(4321));
  auto introduced = [&](unsigned id) {
    errno = 0;
    if (xs_is_domain_introduced(h_, id)) return std::string("true");
    return errno ? "false, " + fail(h_) : std::string("false");
  };
  report("access.is_domain_introduced_0", introduced(0));
  report("access.is_domain_introduced_guest", introduced(gid_));
  report("access.is_domain_introduced_4321", introduced(4321));
}

void Probe::perms_cases() {
  report("perms.root", perms("/"));
  report("perms.local", perms("/local"));
  report("perms.local_domain", perms("/local/domain"));
  report("perms.dom0_home", perms("/local/domain/0"));
  report("perms.dom0_name", perms("/local/domain/0/name"));
  report("perms.guest_home", perms("/local/domain/" + std::to_string(gid_)));
  for (const char* n : {"name", "domid", "vm", "memory", "memory/target", "memory/static-max",
                        "memory/videoram", "data", "control", "control/shutdown",
                        "control/feature-balloon", "device", "cpu", "console", "store"})
    report(std::string("perms.guest_") + n, perms(guest_node(n)));
  report("perms.base", perms(base_));
  report("perms.missing", perms(B("nope")));

  // nodes created by this role below its base
  write(B("pc"), "v");
  report("perms.created_node", perms(B("pc")));
  write(B("pc/child"), "v");
  report("perms.created_child", perms(B("pc/child")));
  if (guest_)
    report("set_perms.own_node_n_self_r0", set_perms(B("pc"), {{gid_, 0}, {0, XS_PERM_READ}}));
  else
    report("set_perms.own_node_n0_r_guest", set_perms(B("pc"), {{0, 0}, {gid_, XS_PERM_READ}}));
  report("perms.after_set", perms(B("pc")));
  write(B("pc/child2"), "v");
  report("perms.child_created_after_set", perms(B("pc/child2")));
  report("perms.old_child_after_parent_set", perms(B("pc/child")));
  report("set_perms.unknown_domid_4321",
         set_perms(B("pc"), {{self_id(), 0}, {4321, XS_PERM_READ}}));
  report("perms.after_set_unknown_domid", perms(B("pc")));
  report("set_perms.rw_for_all", set_perms(B("pc"), {{self_id(), XS_PERM_READ | XS_PERM_WRITE}}));
  report("perms.after_set_rw_for_all", perms(B("pc")));
  report("set_perms.five_entries", set_perms(B("pc"), {{self_id(), 0},
                                                       {0, XS_PERM_READ},
                                                       {4321, XS_PERM_READ},
                                                       {4322, XS_PERM_READ},
                                                       {4323, XS_PERM_READ}}));
  report("set_perms.six_entries", set_perms(B("pc"), {{self_id(), 0},
                                                      {0, XS_PERM_READ},
                                                      {4321, XS_PERM_READ},
                                                      {4322, XS_PERM_READ},
                                                      {4323, XS_PERM_READ},
                                                      {4324, XS_PERM_READ}}));
  report("perms.after_six_entries", perms(B("pc")));
  report("set_perms.empty_list", set_perms(B("pc"), {}));
  report("set_perms.missing_node", set_perms(B("nope"), {{self_id(), 0}}));
  write(B("ga"), "v");
  const unsigned other = guest_ ? 0 : gid_;
  report("set_perms.give_node_away", set_perms(B("ga"), {{other, 0}}));
  report("perms.after_give_away", perms(B("ga")));
  report("read.after_give_away", rd(B("ga")));
  report("write.after_give_away", st(write(B("ga"), "w")));
  report("rm.after_give_away", st(rm(B("ga"))));
  if (guest_) {
    report("set_perms.own_memory_target",
           set_perms("memory/target", {{0, 0}, {gid_, XS_PERM_READ}}));
    report("set_perms.own_memory_dir", set_perms("memory", {{0, 0}, {gid_, XS_PERM_READ}}));
    report("set_perms.own_data_dir_unchanged", set_perms("data", {{gid_, 0}}));
    report("set_perms.dom0_home", set_perms("/local/domain/0", {{0, 0}}));
  } else {
    // dom0 creating nodes in the guest's home: who owns them?
    const std::string gd = guest_node("data/xsconf-dom0");
    report("write.dom0_in_guest_data", st(write(gd, "v")));
    report("perms.dom0_created_in_guest_data", perms(gd));
    report("rm.dom0_in_guest_data", st(rm(gd)));
    const std::string gm = guest_node("memory/xsconf-dom0");
    report("write.dom0_in_guest_memory", st(write(gm, "v")));
    report("perms.dom0_created_in_guest_memory", perms(gm));
    rm(gm);
  }
}

void Probe::sizes() {
  for (unsigned n : {2000u, 2047u, 2048u, 2049u, 4000u}) {
    const std::string v(n, 'v');
    const std::string name = "size.value_" + std::to_string(n);
    if (write(B("big"), v)) {
      auto back = read_raw(B("big"));
      report(name, back ? (*back == v ? "OK, reads back the same"
                                      : "OK, reads back len=" + std::to_string(back->size()))
                        : "OK, read-back " + fail(h_));
    } else {
      report(name, fail(h_));
    }
  }
  rm(B("big"));
  // whole-message limits: path + NUL + value = payload (the header is 16 bytes)
  for (unsigned payload : {4080u, 4081u, 4096u, 4097u}) {
    const std::string path = B("pay");
    const std::string v(payload - path.size() - 1, 'p');
    report("size.payload_" + std::to_string(payload), st(write(path, v)));
  }
  rm(B("pay"));
  // the largest value accepted for a fresh leaf (one permission entry, no
  // children), by bisection
  auto largest = [&](const std::string& path, unsigned hi) {
    unsigned lo = 0;
    if (write(path, std::string(hi, 'm'))) return std::to_string(hi) + " (or more)";
    fail(h_);
    while (lo + 1 < hi) {
      const unsigned mid = (lo + hi) / 2;
      const bool ok = write(path, std::string(mid, 'm'));
      if (!ok) fail(h_);
      (ok ? lo : hi) = mid;
    }
    write(path, std::string(hi, 'm'));
    return std::to_string(lo) + " (" + std::to_string(hi) + ": " + fail(h_) + ")";
  };
  report("size.largest_value_leaf", largest(B("max"), 4000));
  // a second permission entry and a child's name count as well
  write(B("max2"), "");
  set_perms_raw(B("max2"), {{self_id(), 0}, {0, XS_PERM_READ}});
  report("size.largest_value_leaf_with_2_perms", largest(B("max2"), 4000));
  write(B("max3/c1234567"), "");
  report("size.largest_value_node_with_child_c1234567", largest(B("max3"), 4000));
  rm(B("max"));
  rm(B("max2"));
  rm(B("max3"));
}

void Probe::transactions() {
  xs_transaction_t t = xs_transaction_start(h_);
  report("tx.start", t ? "OK" : fail(h_));
  report("tx.write_inside", st(write(B("t1"), "in", t)));
  report("tx.read_inside", rd(B("t1"), t));
  report("tx.read_outside_before_commit", rd(B("t1")));
  write(B("tdir/a"), "", t);
  report("tx.directory_inside", dir(B("tdir"), t));
  report("tx.directory_outside_before_commit", dir(B("tdir")));
  write(B("tdir/b"), "", t);
  rm(B("tdir/a"), t);
  report("tx.read_inside_after_rm_inside", rd(B("tdir/a"), t));
  report("tx.commit", st(xs_transaction_end(h_, t, false)));
  report("tx.read_after_commit", rd(B("t1")));
  report("tx.directory_after_commit", dir(B("tdir")));

  t = xs_transaction_start(h_);
  write(B("t2"), "x", t);
  report("tx.abort", st(xs_transaction_end(h_, t, true)));
  report("tx.read_after_abort", rd(B("t2")));

  // conflicts: something the transaction touched changed outside
  write(B("t5"), "");
  write(B("t6"), "");
  t = xs_transaction_start(h_);
  rd(B("t1"), t);
  write(B("t1"), "out");
  write(B("t5"), "x", t);
  report("tx.commit_after_outside_write_of_read_node", st(xs_transaction_end(h_, t, false)));
  report("tx.value_written_by_failed_tx", rd(B("t5")));

  t = xs_transaction_start(h_);
  write(B("t1"), "tx", t);
  write(B("t1"), "out2");
  report("tx.commit_after_outside_write_of_written_node", st(xs_transaction_end(h_, t, false)));
  report("tx.value_after_conflict", rd(B("t1")));

  t = xs_transaction_start(h_);
  rd(B("t1"), t);
  write(B("t1"), "out3");
  report("tx.commit_readonly_after_outside_write", st(xs_transaction_end(h_, t, false)));

  t = xs_transaction_start(h_);
  write(B("t5"), "in-tx", t);
  write(B("t6"), "outside");
  report("tx.commit_after_outside_write_of_other_existing_node",
         st(xs_transaction_end(h_, t, false)));

  t = xs_transaction_start(h_);
  write(B("t7"), "x", t);
  write(B("t8"), "outside");
  report("tx.commit_after_outside_create_of_a_sibling", st(xs_transaction_end(h_, t, false)));

  t = xs_transaction_start(h_);
  write(B("t9"), "x", t);
  write(B("t9"), "created-outside");
  report("tx.commit_after_outside_create_of_same_node", st(xs_transaction_end(h_, t, false)));

  t = xs_transaction_start(h_);
  rd(B("t5"), t);
  write(B("t5/child"), "");
  report("tx.commit_after_outside_child_create_below_read_node",
         st(xs_transaction_end(h_, t, false)));

  t = xs_transaction_start(h_);
  write(B("t10"), "x", t);
  report("tx.end_commit", st(xs_transaction_end(h_, t, false)));
  report("tx.end_same_id_again", st(xs_transaction_end(h_, t, false)));
  report("tx.end_unknown_id", st(xs_transaction_end(h_, 0x7ff0123, false)));
  report("tx.abort_unknown_id", st(xs_transaction_end(h_, 0x7ff0123, true)));
  report("tx.read_with_unknown_id", rd(B("t1"), 0x7ff0123));
  report("tx.write_with_unknown_id", st(write(B("t11"), "x", 0x7ff0123)));
  {
    xs_handle* other = open_handle();
    xs_transaction_t t2 = xs_transaction_start(h_);
    unsigned len = 0;
    void* v = xs_read(other, t2, B("t1").c_str(), &len);
    report("tx.read_with_id_of_other_connection", v ? "OK" : fail(other));
    std::free(v);
    xs_transaction_end(h_, t2, true);
    xs_close(other);
  }
  t = xs_transaction_start(h_);
  report("tx.mkdir_inside", st(mkdir(B("tm"), t)));
  report("tx.get_perms_inside", perms(B("tm"), t));
  report("tx.set_perms_inside", st(set_perms_raw(B("tm"), {{self_id(), XS_PERM_READ}}, t)));
  report("tx.commit_mkdir_and_set_perms", st(xs_transaction_end(h_, t, false)));
  report("tx.perms_after_commit", perms(B("tm")));
}

void Probe::watches() {
  w_ = open_handle();
  if (!w_) {
    report("watch.open_handle", errno_name(errno));
    return;
  }
  watcher_init();
  const std::string wp = B("w");
  report("watch.register_missing_node", st(xs_watch(w_, wp.c_str(), "tokA"), w_));
  report("watch.initial_event", sync_events());
  report("watch.events_write_self", (write(wp, "v"), sync_events()));
  report("watch.events_write_child", (write(B("w/c"), "1"), sync_events()));
  report("watch.events_write_grandchild", (write(B("w/c/g"), "1"), sync_events()));
  report("watch.events_write_prefix_sibling_wx", (write(B("wx"), "1"), sync_events()));
  report("watch.events_write_parent", (write(base_, ""), sync_events()));
  report("watch.events_mkdir_child", (mkdir(B("w/m")), sync_events()));
  report("watch.events_mkdir_existing_child", (mkdir(B("w/m")), sync_events()));
  report("watch.events_rm_leaf_child", (rm(B("w/c/g")), sync_events()));
  report("watch.events_rm_missing_child", (rm(B("w/nope")), sync_events()));
  report("watch.events_set_perms", (set_perms_raw(wp, {{self_id(), 0}}), sync_events()));
  report("watch.events_same_value_rewrite", (write(B("w/c"), "1"), sync_events()));
  report("watch.events_failed_write_below", (write(B("w/a b"), "1"), sync_events()));
  report("watch.events_rm_watched_node_with_children", (rm(wp), sync_events()));
  report("watch.events_recreate_watched_node", (write(wp, ""), sync_events()));
  // a watch below a removed ancestor
  report("watch.register_deep", st(xs_watch(w_, B("w2/deep").c_str(), "tokD"), w_));
  report("watch.initial_event_deep", sync_events());
  write(B("w2/deep/leaf"), "");
  write(B("w2/other"), "");
  report("watch.events_deep_leaf_and_other_branch", sync_events());
  report("watch.events_rm_ancestor_of_watched", (rm(B("w2")), sync_events()));
  xs_unwatch(w_, B("w2/deep").c_str(), "tokD");
  // two tokens on one path
  report("watch.same_path_other_token", st(xs_watch(w_, wp.c_str(), "tokB"), w_));
  report("watch.initial_event_other_token", sync_events());
  report("watch.events_one_write_two_tokens", (write(B("w/two"), "1"), sync_events()));
  report("watch.unwatch", st(xs_unwatch(w_, wp.c_str(), "tokB"), w_));
  report("watch.events_after_unwatch", (write(B("w/two"), "2"), sync_events()));
  // relative vs absolute paths
  const std::string abs = self_home() + "/" + B("wa");
  report("watch.register_absolute", st(xs_watch(w_, abs.c_str(), "tokAbs"), w_));
  report("watch.initial_event_absolute", sync_events());
  report("watch.events_absolute_watch_relative_write", (write(B("wa/x"), "1"), sync_events()));
  report("watch.events_relative_watch_absolute_write",
         (write(self_home() + "/" + B("w/abs"), "1"), sync_events()));
  xs_unwatch(w_, abs.c_str(), "tokAbs");
  // transactions: events only at commit
  const std::string tp = B("w3");
  xs_watch(w_, tp.c_str(), "tokT");
  sync_events();
  xs_transaction_t t = xs_transaction_start(h_);
  write(B("w3/in-tx"), "1", t);
  write(B("w3/in-tx2"), "1", t);
  report("watch.events_before_commit", sync_events());
  report("watch.commit", st(xs_transaction_end(h_, t, false)));
  report("watch.events_after_commit", sync_events());
  t = xs_transaction_start(h_);
  write(B("w3/aborted"), "1", t);
  xs_transaction_end(h_, t, true);
  report("watch.events_after_abort", sync_events());
  xs_unwatch(w_, tp.c_str(), "tokT");
  // somebody else's nodes and the root
  report("watch.register_other_home", st(xs_watch(w_, other_home().c_str(), "tokO"), w_));
  report("watch.initial_event_other_home", sync_events());
  xs_unwatch(w_, other_home().c_str(), "tokO");
  report("watch.register_root", st(xs_watch(w_, "/", "tokRoot"), w_));
  report("watch.initial_event_root", sync_events());
  report("watch.events_root_own_write", (write(B("wr"), "1"), sync_events()));
  xs_unwatch(w_, "/", "tokRoot");
  report("watch.register_empty_token", st(xs_watch(w_, B("we").c_str(), ""), w_));
  report("watch.initial_event_empty_token", sync_events());
  xs_unwatch(w_, B("we").c_str(), "");
  report("watch.register_token_with_space", st(xs_watch(w_, B("ws").c_str(), "tok S"), w_));
  report("watch.initial_event_token_with_space", sync_events());
  xs_unwatch(w_, B("ws").c_str(), "tok S");

  // calls that may fail, each on a handle of its own
  report("watch.invalid_path_space", lone_watch(B("a b"), "tokX"));
  report("watch.invalid_path_trailing_slash", lone_watch(B("w/"), "tokX"));
  report("watch.invalid_path_empty", lone_watch("", "tokX"));
  {
    xs_handle* h = open_handle();
    xs_fileno(h);
    xs_watch(h, B("sync").c_str(), "sync");
    bool to = false;
    sync_raw(h, &to);
    xs_watch(h, B("wd").c_str(), "tokDup");
    const std::string dup = st(xs_watch(h, B("wd").c_str(), "tokDup"), h);
    report("watch.duplicate_same_path_same_token", dup);
    if (dup.find("handle closed") == std::string::npos) {
      write(B("wd/x"), "1");
      auto ev = sync_raw(h, &to);
      report("watch.events_after_duplicate", fmt_events(ev) + (to ? " (sync timeout)" : ""));
      report("watch.unwatch_unknown_token", st(xs_unwatch(h, B("wd").c_str(), "nosuch"), h));
      report("watch.unwatch_unknown_path", st(xs_unwatch(h, B("never").c_str(), "tokDup"), h));
    }
    xs_close(h);
  }
  xs_close(w_);
  w_ = nullptr;
  for (const char* n : {"w", "wx", "wa", "w3", "wr", "wd", "we", "ws", "sync"}) rm(B(n));
}

void Probe::special_watches() {
  w_ = open_handle();
  if (!w_) {
    report("special.open_handle", errno_name(errno));
    return;
  }
  watcher_init();
  report("special.watch_introduceDomain", st(xs_watch(w_, "@introduceDomain", "tokI"), w_));
  report("special.watch_releaseDomain", st(xs_watch(w_, "@releaseDomain", "tokR"), w_));
  report("special.watch_unknown_special", st(xs_watch(w_, "@nosuchSpecial", "tokU"), w_));
  report("special.initial_events", sync_events());
  report("special.read_introduceDomain", rd("@introduceDomain"));
  report("special.perms_introduceDomain", perms("@introduceDomain"));
  report("special.perms_releaseDomain", perms("@releaseDomain"));
  report("special.write_introduceDomain", st(write("@introduceDomain", "x")));
  if (!domain_cmd_.empty()) {
    const int rc = std::system(domain_cmd_.c_str());
    report("special.domain_cmd", rc == 0 ? "OK" : "rc=" + std::to_string(rc));
    // the release event comes when the hypervisor reports the domain gone:
    // wait for it, then collect whatever else is queued
    bool seen_r = false;
    auto ev = collect(
        w_, [&](const Event& e) { return e.second == "tokR" && (seen_r = true); }, 20000);
    if (seen_r) ev.push_back({"@releaseDomain", "tokR"});
    bool to = false;
    for (auto& e : sync_raw(w_, &to)) ev.push_back(e);
    std::string order;
    for (auto& e : ev) order += e.second == "tokI" ? "I" : e.second == "tokR" ? "R" : "?";
    report("special.events_after_create_and_destroy",
           "[" + order + "] (I = @introduceDomain, R = @releaseDomain)");
  }
  xs_close(w_);
  w_ = nullptr;
  rm(B("sync"));
}

void Probe::quotas() {
  // --- nodes: 36 directories of up to 32 nodes each (no parent grows big),
  // the leaves written by 4 threads with a handle each: a round trip costs
  // tens of ms under TCG, so keeping several requests in flight matters ---
  const unsigned cap = 1050;  // nodes, the directories included
  const unsigned ndirs = 36;
  const std::string q = B("q");
  mkdir(q);
  const unsigned owned_before = guest_ ? count_owned(self_home(), gid_) : 0;
  std::atomic<unsigned> created{0};
  std::atomic<int> first_err{0};
  auto note_err = [&](int e) {
    int none = 0;
    first_err.compare_exchange_strong(none, e);
  };
  for (unsigned d = 0; d < ndirs && !first_err; ++d) {
    if (mkdir(q + "/d" + std::to_string(d)))
      ++created;
    else
      note_err(errno);
  }
  std::atomic<unsigned> next{0};
  const unsigned leaves = cap - ndirs;
  auto worker = [&] {
    xs_handle* h = open_handle();
    if (!h) {
      note_err(errno);
      return;
    }
    for (unsigned i; !first_err && (i = next++) < leaves;) {
      const std::string path = q + "/d" + std::to_string(i / 32) + "/n" + std::to_string(i % 32);
      if (xs_write(h, XBT_NULL, path.c_str(), "", 0))
        ++created;
      else
        note_err(errno);
    }
    xs_close(h);
  };
  if (!first_err) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  }
  const int err = first_err;
  if (err) {
    // owned_before counted every node of the guest's home that it owns (q
    // included), so this is the number it owned when the write failed
    report("quota.nodes", errno_name(err) + ", owned when refused=" +
                              std::to_string(owned_before + created.load()));
    report("quota.nodes_overwrite_existing_at_limit", st(write(q + "/d0/n0", "still-writable")));
    report("quota.nodes_mkdir_existing_at_limit", st(mkdir(q + "/d0")));
    rm(q + "/d0/n0");
    report("quota.nodes_after_one_rm", st(write(q + "/again", "")));
    report("quota.nodes_next_after_refill", st(write(q + "/again2", "")));
  } else {
    report("quota.nodes",
           "OK, created " + std::to_string(created.load()) + " (no limit up to the cap)");
  }
  report("quota.nodes_rm_all", st(rm(q)));
  report("quota.nodes_write_after_rm_all", st(write(q + "/fresh", "")));
  rm(q);

  // --- watches, on a handle of their own ---
  {
    xs_handle* w = open_handle();
    const unsigned wcap = 130;
    unsigned ok = 0;
    std::string r;
    for (; ok < wcap; ++ok) {
      if (!xs_watch(w, B("wq/" + std::to_string(ok)).c_str(), "q")) {
        r = fail(w);
        break;
      }
    }
    report("quota.watches",
           r.empty() ? "OK, registered " + std::to_string(ok) + " (no limit up to the cap)"
                     : r + ", after " + std::to_string(ok));
    xs_close(w);
  }
  // --- transactions, on a handle of their own ---
  if (skip_failing_transaction_start_) {
    for (const char* name : {"quota.transactions", "quota.transactions_abort_all",
                             "quota.transactions_start_after_abort_all"}) {
      report(name, "SKIPPED");
    }
  } else {
    xs_handle* t = open_handle();
    std::vector<xs_transaction_t> open;
    std::string r;
    for (unsigned i = 0; i < 15; ++i) {
      xs_transaction_t id = xs_transaction_start(t);
      if (id == XBT_NULL) {
        r = fail(t);
        break;
      }
      open.push_back(id);
    }
    report("quota.transactions",
           r.empty() ? "OK, started " + std::to_string(open.size()) + " (no limit up to the cap)"
                     : r + ", after " + std::to_string(open.size()));
    bool all = true;
    for (auto id : open) all = xs_transaction_end(t, id, true) && all;
    report("quota.transactions_abort_all", all ? "OK" : fail(t));
    xs_transaction_t again = xs_transaction_start(t);
    report("quota.transactions_start_after_abort_all", again ? "OK" : fail(t));
    if (again) xs_transaction_end(t, again, true);
    xs_close(t);
  }
}

void Probe::control() {
  auto cmd = [&](const char* c) {
    char* r = xs_control_command(h_, c, nullptr, 0);
    if (!r) return fail(h_);
    std::string s(r);
    std::free(r);
    // one line per setting: join them; squeeze the alignment blanks
    std::string out;
    for (char ch : s) {
      if (ch == '\n') ch = ';';
      if (ch == ' ' && !out.empty() && (out.back() == ' ' || out.back() == ';')) continue;
      out += ch;
    }
    while (!out.empty() && out.back() == ';') out.pop_back();
    return quote(out);
  };
  report("control.quota", cmd("quota"));
  report("control.unknown_command", cmd("no-such-command"));
}

int Probe::run() {
  h_ = open_handle();
  if (!h_) {
    std::printf("CASE open %s\n", errno_name(errno).c_str());
    return 1;
  }
  if (guest_) {
    auto d = read_raw("domid");
    if (!d) {
      std::printf("CASE read_domid %s\n", errno_name(errno).c_str());
      return 1;
    }
    gid_ = static_cast<unsigned>(std::strtoul(d->c_str(), nullptr, 10));
  }
  std::printf("# xs_conformance role=%s transport=%s\n", guest_ ? "guest" : "dom0",
              guest_ || xenbus_ ? "xenbus" : "socket");
  rm(base_);
  report("setup.mkdir_base", st(mkdir(base_)));
  const auto t0 = std::chrono::steady_clock::now();
  auto timed = [&](const char* name, void (Probe::*fn)()) {
    const auto s = std::chrono::steady_clock::now();
    (this->*fn)();
    std::fprintf(stderr, "xs_conformance: %s took %.2f s\n", name,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count());
  };
  timed("basic", &Probe::basic);
  timed("paths", &Probe::paths);
  timed("access", &Probe::access);
  timed("perms", &Probe::perms_cases);
  timed("sizes", &Probe::sizes);
  timed("transactions", &Probe::transactions);
  timed("watches", &Probe::watches);
  timed("special", &Probe::special_watches);
  timed("quotas", &Probe::quotas);
  timed("control", &Probe::control);
  report("cleanup.rm_base", st(rm(base_)));
  std::fprintf(stderr, "xs_conformance: total %.2f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string role, domain_cmd;
  unsigned guest_domid = 0;
  bool xenbus = false;
  bool skip_failing_transaction_start = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--role" || a == "--guest-domid" || a == "--domain-cmd") && i + 1 >= argc) {
      std::fprintf(stderr, "xs_conformance: %s needs a value\n", a.c_str());
      return 1;
    }
    if (a == "--role") {
      role = argv[++i];
    } else if (a == "--guest-domid") {
      guest_domid = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--domain-cmd") {
      domain_cmd = argv[++i];
    } else if (a == "--xenbus") {
      xenbus = true;
    } else if (a == "--skip-failing-transaction-start") {
      skip_failing_transaction_start = true;
    } else {
      std::fprintf(stderr,
                   "usage: xs_conformance --role dom0|guest [--guest-domid N] "
                   "[--domain-cmd CMD] [--xenbus] [--skip-failing-transaction-start]\n");
      return 1;
    }
  }
  if (role != "dom0" && role != "guest") {
    std::fprintf(stderr, "xs_conformance: --role dom0|guest is required\n");
    return 1;
  }
  if (role == "dom0" && guest_domid == 0) {
    std::fprintf(stderr, "xs_conformance: --role dom0 needs --guest-domid N (N > 0)\n");
    return 1;
  }
  Probe p(role == "guest", guest_domid, domain_cmd, xenbus, skip_failing_transaction_start);
  return p.run();
}
