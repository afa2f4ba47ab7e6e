#include "store.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include <xen/io/xs_wire.h>

#include "xenballoon/xenstore/keys.h"

namespace xenballoon::xenstored_lite {
namespace {

// XENSTORE_ABS_PATH_MAX / XENSTORE_REL_PATH_MAX from xs_wire.h.
constexpr std::size_t kAbsPathMax = 3072;
constexpr std::size_t kRelPathMax = 2048;
// sizeof(struct xs_tdb_record_hdr) and sizeof(struct xs_permissions) in C xenstored: the
// entry-size quota counts the whole stored record, not only the value.
constexpr std::size_t kRecordHeaderSize = 24;
constexpr std::size_t kRecordPermSize = 8;

bool is_child_or_self(std::string_view child, std::string_view parent) {
  if (parent == "/") return true;
  if (child.substr(0, parent.size()) != parent) return false;
  return child.size() == parent.size() || child[parent.size()] == '/';
}

std::string child_path(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

std::string basename_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

}  // namespace

// Reads and writes either straight into the tree or into a transaction's overlay, recording what
// a transaction touched so that its commit can detect conflicts.
class Store::View {
 public:
  View(Store& store, Transaction* tx) : store_(store), tx_(tx) {}

  const Node* get(const std::string& path) {
    if (tx_) {
      auto change = tx_->changes.find(path);
      if (change != tx_->changes.end()) return change->second ? &*change->second : nullptr;
      const Node* base = store_.lookup(path);
      tx_->accessed.try_emplace(path, base ? base->generation : 0);
      return base;
    }
    return store_.lookup(path);
  }

  void put(const std::string& path, Node node) {
    if (tx_) {
      note_access(path);
      tx_->changes[path] = std::move(node);
      return;
    }
    node.generation = ++store_.generation_;
    store_.nodes_[path] = std::move(node);
  }

  void erase(const std::string& path) {
    if (tx_) {
      note_access(path);
      tx_->changes[path] = std::nullopt;
      return;
    }
    store_.nodes_.erase(path);
  }

  std::int64_t owned(std::uint32_t domid) const {
    auto it = store_.owned_.find(domid);
    std::int64_t count = it == store_.owned_.end() ? 0 : it->second;
    if (tx_) {
      auto delta = tx_->owned_delta.find(domid);
      if (delta != tx_->owned_delta.end()) count += delta->second;
    }
    return count;
  }

  void account(std::uint32_t domid, int delta) {
    if (tx_) {
      tx_->owned_delta[domid] += delta;
    } else {
      store_.account(domid, delta);
    }
  }

  // Inside a transaction watches fire at commit, as in xenstored.
  void fire(WatchTrigger trigger, std::vector<WatchTrigger>* fired) {
    if (tx_) {
      tx_->pending.push_back(std::move(trigger));
    } else if (fired) {
      fired->push_back(std::move(trigger));
    }
  }

  void fail() {
    if (tx_) tx_->failed = true;
  }

 private:
  void note_access(const std::string& path) {
    const Node* base = store_.lookup(path);
    tx_->accessed.try_emplace(path, base ? base->generation : 0);
  }

  Store& store_;
  Transaction* tx_;
};

Store::Store(Quotas quotas) : quotas_(quotas) {
  // The nodes C xenstored creates at start (manual_node in xenstored_core.c).
  Perms root_perms{{0, kPermNone}};
  load_node("/", "", root_perms);
  load_node("/tool", "", root_perms);
  load_node("/tool/xenstored", "", root_perms);
  special_perms_["@introduceDomain"] = root_perms;
  special_perms_["@releaseDomain"] = root_perms;
}

Store::~Store() = default;

std::string Store::implicit_path(std::uint32_t domid) {
  return xenstore::keys::domain_home(domid);
}

std::string Store::canonicalize(const Caller& caller, std::string_view path) {
  if (path.empty() || path.front() == '/' || path.front() == '@') return std::string(path);
  return implicit_path(caller.domid) + "/" + std::string(path);
}

bool Store::is_valid_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.size() > 1 && path.back() == '/') return false;
  if (path.find("//") != std::string_view::npos) return false;
  if (path.size() > kAbsPathMax) return false;
  // Below a domain's home the domain-relative part is limited, as in is_valid_nodename().
  constexpr std::string_view kRoot = xenstore::keys::kDomainsRoot;
  if (path.size() > kRoot.size() && path.substr(0, kRoot.size()) == kRoot &&
      path[kRoot.size()] == '/') {
    std::size_t i = kRoot.size() + 1, digits = 0;
    while (i < path.size() && path[i] >= '0' && path[i] <= '9' && digits < 5) ++i, ++digits;
    if (digits > 0 && i < path.size() && path[i] == '/' && path.size() - (i + 1) > kRelPathMax) {
      return false;
    }
  }
  for (char ch : path) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '/' || ch == '_' || ch == '@';
    if (!ok) return false;
  }
  return true;
}

std::string Store::parent_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

std::size_t Store::record_size(const Node& node) {
  std::size_t size = kRecordHeaderSize + node.perms.size() * kRecordPermSize + node.value.size();
  for (const auto& child : node.children) size += child.size() + 1;
  return size;
}

std::uint8_t Store::perm_for(const Caller& c, const Perms& perms) {
  constexpr std::uint8_t kAll = kPermRead | kPermWrite | kPermOwner;
  if (c.privileged() || perms.empty() || perms[0].domid == c.domid) return kAll;
  for (std::size_t i = 1; i < perms.size(); ++i) {
    if (!(perms[i].bits & kPermIgnore) && perms[i].domid == c.domid) return perms[i].bits & kAll;
  }
  return perms[0].bits & kAll;
}

bool Store::can_read_event(const Caller& c, const WatchTrigger& t) {
  if (!t.old_node_perms.empty() && (perm_for(c, t.old_node_perms) & kPermRead)) return true;
  if (!t.node_perms.empty() && (perm_for(c, t.node_perms) & kPermRead)) return true;
  if (!t.parent_perms.empty() && (perm_for(c, t.parent_perms) & kPermRead)) return true;
  return false;
}

const Node* Store::lookup(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

void Store::account(std::uint32_t domid, int delta) {
  if (domid == 0) return;  // dom0 has no node quota; keep the map small
  auto& count = owned_[domid];
  count += delta;
  if (count <= 0) owned_.erase(domid);
}

std::uint32_t Store::nodes_owned_by(std::uint32_t domid) const {
  auto it = owned_.find(domid);
  return it == owned_.end() ? 0 : static_cast<std::uint32_t>(it->second);
}

void Store::load_node(const std::string& path, std::string value, Perms perms) {
  if (perms.empty()) perms = {{0, kPermNone}};
  if (path != "/") {
    std::string parent = parent_of(path);
    if (!lookup(parent)) load_node(parent, "", perms);
    auto& siblings = nodes_[parent].children;
    std::string name = basename_of(path);
    bool present = false;
    for (const auto& s : siblings) present = present || s == name;
    if (!present) siblings.push_back(name);
  }
  auto existing = nodes_.find(path);
  if (existing != nodes_.end()) {
    account(existing->second.perms[0].domid, -1);
    existing->second.value = std::move(value);
    existing->second.perms = std::move(perms);
    existing->second.generation = ++generation_;
  } else {
    Node node{std::move(value), std::move(perms), {}, ++generation_};
    nodes_.emplace(path, std::move(node));
  }
  account(nodes_[path].perms[0].domid, +1);
}

void Store::for_each_preorder(
    const std::function<void(const std::string&, const Node&)>& fn) const {
  std::vector<std::string> stack{"/"};
  while (!stack.empty()) {
    std::string path = std::move(stack.back());
    stack.pop_back();
    const Node* node = lookup(path);
    if (!node) continue;
    fn(path, *node);
    for (auto it = node->children.rbegin(); it != node->children.rend(); ++it) {
      stack.push_back(child_path(path, *it));
    }
  }
}

int Store::errno_from_parents(const Caller& c, View& view, const std::string& path, int err,
                              std::uint8_t perm) {
  // Do not tell a domain whether a node exists where it may not look (xenstored's rule).
  std::string name = path;
  const Node* ancestor = nullptr;
  while (!ancestor && name != "/") {
    name = parent_of(name);
    ancestor = view.get(name);
  }
  if (!ancestor) return EACCES;
  return (perm_for(c, ancestor->perms) & perm) ? err : EACCES;
}

int Store::get_node(const Caller& c, View& view, const std::string& path, std::uint8_t perm,
                    const Node** out) {
  *out = nullptr;
  if (!is_valid_path(path)) return EINVAL;
  const Node* node = view.get(path);
  int err = ENOENT;
  if (node) {
    if ((perm_for(c, node->perms) & perm) == perm) {
      *out = node;
      return 0;
    }
    err = EACCES;
  }
  return errno_from_parents(c, view, path, err, perm);
}

int Store::check_entry_size(const Caller& c, const Node& node) const {
  if (!c.privileged() && record_size(node) >= quotas_.max_entry_size) return ENOSPC;
  return 0;
}

int Store::create_node(const Caller& c, View& view, const std::string& path, std::string_view value,
                       std::vector<WatchTrigger>* fired) {
  // Walk up to the nearest existing ancestor, then build the missing nodes downwards.
  std::vector<std::string> missing{path};
  std::string ancestor_path = parent_of(path);
  const Node* ancestor = view.get(ancestor_path);
  while (!ancestor) {
    if (ancestor_path == "/") return EINVAL;
    missing.push_back(ancestor_path);
    ancestor_path = parent_of(ancestor_path);
    ancestor = view.get(ancestor_path);
  }

  Node top = *ancestor;
  std::vector<std::pair<std::string, Node>> built;
  Perms inherited = ancestor->perms;
  if (!c.privileged()) inherited[0].domid = c.domid;
  top.children.push_back(basename_of(missing.back()));
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    Node node;
    node.perms = inherited;
    if (std::next(it) != missing.rend()) node.children.push_back(basename_of(*std::next(it)));
    if (*it == path) node.value = std::string(value);
    built.emplace_back(*it, std::move(node));
  }

  // xenstored checks bottom up: node quota then entry size for each new node, then the parent.
  std::int64_t owned = view.owned(c.domid);
  for (auto it = built.rbegin(); it != built.rend(); ++it) {
    if (!c.privileged() && owned >= quotas_.max_nodes_per_domain) return ENOSPC;
    if (int err = check_entry_size(c, it->second)) return err;
    ++owned;
  }
  if (int err = check_entry_size(c, top)) return err;

  Perms parent_perms = top.perms;
  view.put(ancestor_path, std::move(top));
  for (auto& [node_path, node] : built) {
    view.account(node.perms[0].domid, +1);
    if (node_path == path) {
      view.fire({path, false, node.perms, parent_perms, {}}, fired);
    }
    parent_perms = node.perms;
    view.put(node_path, std::move(node));
  }
  return 0;
}

int Store::read(const Caller& c, Transaction* tx, const std::string& path, std::string* out) {
  View view(*this, tx);
  const Node* node = nullptr;
  if (int err = get_node(c, view, path, kPermRead, &node)) return err;
  *out = node->value;
  return 0;
}

int Store::directory(const Caller& c, Transaction* tx, const std::string& path,
                     std::vector<std::string>* out, std::uint64_t* generation) {
  View view(*this, tx);
  const Node* node = nullptr;
  if (int err = get_node(c, view, path, kPermRead, &node)) return err;
  *out = node->children;
  if (generation) *generation = node->generation;
  return 0;
}

int Store::write(const Caller& c, Transaction* tx, const std::string& path, std::string_view value,
                 std::vector<WatchTrigger>* fired) {
  View view(*this, tx);
  const Node* node = nullptr;
  int err = get_node(c, view, path, kPermWrite, &node);
  if (err == ENOENT) {
    err = create_node(c, view, path, value, fired);
    if (err) view.fail();
    return err;
  }
  if (err) return err;
  Node updated = *node;
  updated.value = std::string(value);
  if ((err = check_entry_size(c, updated))) {
    view.fail();
    return err;
  }
  const Node* parent = view.get(parent_of(path));
  WatchTrigger trigger{path, false, updated.perms, parent ? parent->perms : Perms{}, {}};
  view.put(path, std::move(updated));
  view.fire(std::move(trigger), fired);
  return 0;
}

int Store::mkdir(const Caller& c, Transaction* tx, const std::string& path,
                 std::vector<WatchTrigger>* fired) {
  View view(*this, tx);
  const Node* node = nullptr;
  int err = get_node(c, view, path, kPermWrite, &node);
  if (err == ENOENT) {
    err = create_node(c, view, path, "", fired);
    if (err) view.fail();
  }
  return err;
}

int Store::rm(const Caller& c, Transaction* tx, const std::string& path,
              std::vector<WatchTrigger>* fired) {
  View view(*this, tx);
  const Node* node = nullptr;
  int err = get_node(c, view, path, kPermWrite, &node);
  if (err == ENOENT) {
    // Removing what is not there is fine if the parent exists.
    return view.get(parent_of(path)) ? 0 : ENOENT;
  }
  if (err) return err;
  if (path == "/") return EINVAL;

  std::string parent_path = parent_of(path);
  Node parent = *view.get(parent_path);

  // Post-order, as xenstored's tree walk: descendants fire exact watches, the root any below it.
  struct Item {
    std::string path;
    bool expanded;
  };
  std::vector<Item> stack{{path, false}};
  std::vector<std::pair<std::string, Perms>> removed;
  while (!stack.empty()) {
    Item item = stack.back();
    stack.pop_back();
    const Node* n = view.get(item.path);
    if (!n) continue;
    if (!item.expanded) {
      stack.push_back({item.path, true});
      for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) {
        stack.push_back({child_path(item.path, *it), false});
      }
      continue;
    }
    removed.emplace_back(item.path, n->perms);
  }
  std::unordered_map<std::string, Perms> perms_by_path(removed.begin(), removed.end());
  for (auto& [removed_path, perms] : removed) {
    auto parent_perms =
        removed_path == path ? parent.perms : perms_by_path[parent_of(removed_path)];
    view.fire({removed_path, removed_path != path, perms, parent_perms, {}}, fired);
    view.account(perms[0].domid, -1);
    view.erase(removed_path);
  }
  std::string name = basename_of(path);
  std::erase(parent.children, name);
  view.put(parent_path, std::move(parent));
  return 0;
}

int Store::get_perms(const Caller& c, Transaction* tx, const std::string& path, Perms* out) {
  View view(*this, tx);
  const Node* node = nullptr;
  if (int err = get_node(c, view, path, kPermRead, &node)) return err;
  *out = node->perms;
  return 0;
}

int Store::set_perms(const Caller& c, Transaction* tx, const std::string& path, const Perms& perms,
                     std::vector<WatchTrigger>* fired) {
  if (perms.empty()) return EINVAL;
  if (!c.privileged() && perms.size() > quotas_.max_perms_per_node) return ENOSPC;
  if (perms[0].bits & kPermIgnore) return ENOENT;
  if (!path.empty() && path.front() == '@') return set_special_perms(c, path, perms);

  View view(*this, tx);
  const Node* node = nullptr;
  if (int err = get_node(c, view, path, kPermWrite | kPermOwner, &node)) return err;
  if (!c.privileged() && perms[0].domid != node->perms[0].domid) return EPERM;

  Node updated = *node;
  Perms old_perms = updated.perms;
  updated.perms = perms;
  if (int err = check_entry_size(c, updated)) {
    view.fail();
    return err;
  }
  if (old_perms[0].domid != perms[0].domid) {
    view.account(old_perms[0].domid, -1);
    view.account(perms[0].domid, +1);
  }
  const Node* parent = view.get(parent_of(path));
  WatchTrigger trigger{path, false, perms, parent ? parent->perms : Perms{}, old_perms};
  view.put(path, std::move(updated));
  view.fire(std::move(trigger), fired);
  return 0;
}

int Store::set_special_perms(const Caller& c, const std::string& path, const Perms& perms) {
  auto it = special_perms_.find(path);
  if (it == special_perms_.end()) return EINVAL;
  if (!(perm_for(c, it->second) & kPermWrite)) return EACCES;
  it->second = perms;
  return 0;
}

Perms Store::special_perms(const std::string& path) const {
  auto it = special_perms_.find(path);
  return it == special_perms_.end() ? Perms{{0, kPermNone}} : it->second;
}

int Store::transaction_start(const Caller& c, std::uint32_t* id_out) {
  // xenstored compares with '>': a domain may hold one more than the quota.
  if (!c.privileged() && transactions_of(c.domid) > quotas_.max_transactions_per_domain) {
    return ENOSPC;
  }
  std::uint32_t id = next_transaction_id_++;
  while (id == 0 || transactions_.count(id)) id = next_transaction_id_++;
  auto tx = std::make_unique<Transaction>();
  tx->id = id;
  tx->domid = c.domid;
  transactions_.emplace(id, std::move(tx));
  *id_out = id;
  return 0;
}

Transaction* Store::find_transaction(std::uint32_t id) {
  auto it = transactions_.find(id);
  return it == transactions_.end() ? nullptr : it->second.get();
}

std::size_t Store::transactions_of(std::uint32_t domid) const {
  std::size_t count = 0;
  for (const auto& [id, tx] : transactions_) count += tx->domid == domid;
  return count;
}

int Store::transaction_end(std::uint32_t id, bool commit, std::vector<WatchTrigger>* fired) {
  auto it = transactions_.find(id);
  if (it == transactions_.end()) return ENOENT;
  std::unique_ptr<Transaction> tx = std::move(it->second);
  transactions_.erase(it);
  if (!commit) return 0;
  if (tx->failed) return EAGAIN;
  for (const auto& [path, generation] : tx->accessed) {
    const Node* now = lookup(path);
    if ((now ? now->generation : 0) != generation) return EAGAIN;
  }
  for (auto& [path, change] : tx->changes) {
    if (change) {
      change->generation = ++generation_;
      nodes_[path] = std::move(*change);
    } else {
      nodes_.erase(path);
    }
  }
  for (const auto& [domid, delta] : tx->owned_delta) account(domid, static_cast<int>(delta));
  if (fired) {
    for (auto& trigger : tx->pending) fired->push_back(std::move(trigger));
  }
  return 0;
}

void Store::remove_nodes_owned_by(std::uint32_t domid, std::vector<WatchTrigger>* fired) {
  if (domid == 0) return;
  std::vector<std::string> roots;
  for_each_preorder([&](const std::string& path, const Node& node) {
    if (path == "/" || node.perms[0].domid != domid) return;
    for (const auto& root : roots) {
      if (is_child_or_self(path, root)) return;
    }
    roots.push_back(path);
  });
  Caller dom0{0};
  for (const auto& root : roots) (void)rm(dom0, nullptr, root, fired);
}

const char* errno_name(int err) {
  // The table xenstored answers from (xs_wire.h); anything else goes out as EINVAL, as there.
  for (const auto& entry : xsd_errors) {
    if (entry.errnum == err) return entry.errstring;
  }
  return "EINVAL";
}

}  // namespace xenballoon::xenstored_lite
