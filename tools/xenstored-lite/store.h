// The xenstore tree of xenstored-lite: nodes, permissions, quotas and transactions, with the
// semantics of C xenstored (Xen 4.17). No I/O; the daemon maps wire messages onto these calls.
// Not synchronized: the daemon is single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace xenballoon::xenstored_lite {

enum PermBits : std::uint8_t {
  kPermNone = 0x00,
  kPermRead = 0x01,
  kPermWrite = 0x02,
  kPermOwner = 0x08,
  kPermIgnore = 0x10,
};

struct Perm {
  std::uint32_t domid = 0;
  std::uint8_t bits = kPermNone;
  bool operator==(const Perm&) const = default;
};

// perms[0] is the owner; its bits are the default for domains not listed.
using Perms = std::vector<Perm>;

struct Node {
  std::string value;
  Perms perms;
  std::vector<std::string> children;  // creation order, as xenstored keeps them
  std::uint64_t generation = 0;
};

// Limits, as C xenstored's defaults. The comparisons follow xenstored exactly (see store.cpp).
struct Quotas {
  std::size_t max_entry_size = 2048;  // -S: record size (header + perms + value + child names)
  std::uint32_t max_nodes_per_domain = 1000;       // -E
  std::uint32_t max_watches_per_domain = 128;      // -W
  std::uint32_t max_transactions_per_domain = 10;  // -t
  std::uint32_t max_perms_per_node = 5;            // -A
};

// Who is asking: the domain a connection acts as. dom0 is privileged.
struct Caller {
  std::uint32_t domid = 0;
  bool privileged() const { return domid == 0; }
};

// A watch to fire after a change: `path` changed; `exact` fires only watches on exactly that path
// (descendants removed with their parent). The perms are those the node had, for the read check.
struct WatchTrigger {
  std::string path;
  bool exact = false;
  Perms node_perms;
  Perms parent_perms;
  Perms old_node_perms;  // set on SET_PERMS: a watcher losing access still gets the event
};

struct Transaction;

// The whole tree. Not thread-safe: the daemon is single-threaded.
class Store {
 public:
  explicit Store(Quotas quotas = {});
  ~Store();

  const Quotas& quotas() const { return quotas_; }

  // Path helpers (absolute paths). Relative paths are resolved by the caller's domain.
  static std::string canonicalize(const Caller& caller, std::string_view path);
  static bool is_valid_path(std::string_view path);
  static std::string parent_of(std::string_view path);
  static std::string implicit_path(std::uint32_t domid);

  // Operations: 0 on success, else an errno value xenstored would answer with.
  // `tx` may be null (no transaction). Watch triggers are appended to `fired`.
  int read(const Caller& c, Transaction* tx, const std::string& path, std::string* out);
  int directory(const Caller& c, Transaction* tx, const std::string& path,
                std::vector<std::string>* out, std::uint64_t* generation = nullptr);
  int write(const Caller& c, Transaction* tx, const std::string& path, std::string_view value,
            std::vector<WatchTrigger>* fired);
  int mkdir(const Caller& c, Transaction* tx, const std::string& path,
            std::vector<WatchTrigger>* fired);
  int rm(const Caller& c, Transaction* tx, const std::string& path,
         std::vector<WatchTrigger>* fired);
  int get_perms(const Caller& c, Transaction* tx, const std::string& path, Perms* out);
  int set_perms(const Caller& c, Transaction* tx, const std::string& path, const Perms& perms,
                std::vector<WatchTrigger>* fired);

  // Transactions.
  int transaction_start(const Caller& c, std::uint32_t* id_out);
  Transaction* find_transaction(std::uint32_t id);
  // Ends a transaction; on commit, 0 or EAGAIN (conflict). The transaction is gone afterwards.
  int transaction_end(std::uint32_t id, bool commit, std::vector<WatchTrigger>* fired);
  std::size_t transactions_of(std::uint32_t domid) const;

  // Would a watch on a node with these perms (or its parent's) be readable by `c`?
  static bool can_read_event(const Caller& c, const WatchTrigger& t);
  static std::uint8_t perm_for(const Caller& c, const Perms& perms);

  // Removes every node owned by `domid` (xenstored does so when a domain goes away).
  void remove_nodes_owned_by(std::uint32_t domid, std::vector<WatchTrigger>* fired);

  // Direct access for dump/load and tests (no permission checks, no quotas).
  const Node* lookup(const std::string& path) const;
  void load_node(const std::string& path, std::string value, Perms perms);
  void for_each_preorder(const std::function<void(const std::string&, const Node&)>& fn) const;
  std::uint32_t nodes_owned_by(std::uint32_t domid) const;
  std::size_t node_count() const { return nodes_.size(); }

  static std::size_t record_size(const Node& node);

  // Special paths (@introduceDomain, @releaseDomain): only their permissions are stored.
  int set_special_perms(const Caller& c, const std::string& path, const Perms& perms);
  Perms special_perms(const std::string& path) const;

 private:
  friend struct Transaction;
  class View;

  int get_node(const Caller& c, View& view, const std::string& path, std::uint8_t perm,
               const Node** out);
  int errno_from_parents(const Caller& c, View& view, const std::string& path, int err,
                         std::uint8_t perm);
  int create_node(const Caller& c, View& view, const std::string& path, std::string_view value,
                  std::vector<WatchTrigger>* fired);
  int check_entry_size(const Caller& c, const Node& node) const;
  void account(std::uint32_t domid, int delta);

  Quotas quotas_;
  std::unordered_map<std::string, Node> nodes_;
  std::unordered_map<std::uint32_t, std::int64_t> owned_;  // node count per owner domain
  std::uint64_t generation_ = 0;
  std::uint32_t next_transaction_id_ = 1;
  std::map<std::uint32_t, std::unique_ptr<Transaction>> transactions_;
  std::unordered_map<std::string, Perms> special_perms_;
};

// One open transaction: a private overlay of changed nodes plus the generation of every node it
// touched, checked at commit. Owned by the Store.
struct Transaction {
  std::uint32_t id = 0;
  std::uint32_t domid = 0;
  std::unordered_map<std::string, std::optional<Node>> changes;  // nullopt: removed in the tx
  std::unordered_map<std::string, std::uint64_t> accessed;       // 0: did not exist
  std::unordered_map<std::uint32_t, std::int64_t> owned_delta;
  std::vector<WatchTrigger> pending;
  bool failed = false;
};

// Errno value -> the name xenstored puts into XS_ERROR ("EACCES"); unknown values map to EINVAL.
const char* errno_name(int err);

}  // namespace xenballoon::xenstored_lite
