// A strict reader of YAML key tables, shared by every configuration and scenario file: each
// mapping lists the keys it accepts, and every problem (syntax, unknown, duplicate and missing
// keys, wrong types, out-of-range numbers) is collected as a ConfigError with its line and key
// path ("pressure.reserve_mib", "guests[1].workload.type") instead of stopping at the first.
// No yaml-cpp type appears here; the library keeps it private.
// Node is a read-only handle and Reader a plain object; neither is synchronized: use each from
// one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xenballoon/config/config_error.h"

namespace xenballoon::strict_yaml {

enum class NodeKind { kNull, kScalar, kList, kMapping };

struct Entry;

// One node of a parsed document. Copies share the document, which lives as long as any of them.
// A default-constructed Node is null and has no line.
class Node {
 public:
  Node();

  NodeKind kind() const;
  bool is_null() const { return kind() == NodeKind::kNull; }
  bool is_scalar() const { return kind() == NodeKind::kScalar; }
  bool is_list() const { return kind() == NodeKind::kList; }
  bool is_mapping() const { return kind() == NodeKind::kMapping; }

  // 1-based line where the node starts; 0 when unknown.
  int line() const;
  // A scalar written without quotes or tag (`64`, not `"64"` or `!!int 64`).
  bool is_plain() const;
  // A scalar's text; empty for other kinds.
  const std::string& text() const;

  // A list's items, in order; empty for other kinds.
  std::vector<Node> items() const;
  // A mapping's entries in the order written, duplicates included; empty for other kinds.
  std::vector<Entry> entries() const;
  // The value of the first entry whose key is a scalar with this text; nullopt when none.
  std::optional<Node> find(std::string_view key) const;

 private:
  struct Impl;          // the YAML library's node; defined by the implementation only
  friend class Reader;  // makes the roots
  explicit Node(std::shared_ptr<const Impl> impl);

  std::shared_ptr<const Impl> impl_;
};

// One key and its value in a mapping. The key is a node: it may be a list or mapping, an error.
struct Entry {
  Node key;
  Node value;
};

// A value being read: the key that holds it, the value, and its key path.
struct Field {
  Node key;
  Node value;
  std::string path;

  // Where errors about the value go: a scalar's own line, else the key's (a null value's mark
  // points past the key, and a block's at its first child).
  int line() const { return value.is_scalar() ? value.line() : key.line(); }
  // The value's own line when it has one, else the key's.
  int own_line() const { return value.line() != 0 ? value.line() : key.line(); }
};

// The fields of a list's items: the list's key, each item, and "path[i]".
std::vector<Field> list_items(const Field& list);

// "parent.key", or "key" at the top level.
std::string join_path(std::string_view parent, std::string_view key);

// Reads one field of a mapping.
using Handler = std::function<void(const Field& field)>;

// One accepted key of a mapping. Required keys that are absent are "missing key" errors.
struct Key {
  std::string_view name;
  Handler read;
  bool required = false;
};

// The keys a mapping accepts, in the order of the docs.
using KeyTable = std::vector<Key>;

// How a quoted or tagged scalar appears in messages: `"64"` like a plain one, or as
// `the quoted or tagged string "64"` (for files where the difference decides the type).
enum class QuotedScalars { kLikePlain, kNamed };

// How many documents a text may hold.
enum class DocumentRule {
  // None reads as an empty document. A second one is an error at its line; the first is still
  // read, so its errors are reported too.
  kAtMostOne,
  // None or several is one error without a line, and nothing is read.
  kExactlyOne,
};

// key path -> 1-based line of its value
using LineMap = std::map<std::string, int, std::less<>>;

// Collects every error of one source, and the line of every key path it read.
class Reader {
 public:
  explicit Reader(std::string source_name, QuotedScalars quoted = QuotedScalars::kNamed);

  // Parses `text`. A syntax error, or a number of documents `rule` refuses, is recorded here.
  // Returns the root to read, nullopt when there is nothing to read.
  std::optional<Node> parse_document(std::string_view text, DocumentRule rule);

  // Each key of `mapping` goes to its handler in `table` after its line is remembered under
  // "parent.key". Keys that are not plain scalars, duplicates and unknown keys are errors;
  // absent required keys are errors at `missing_key_line`.
  void read_mapping(const Node& mapping, const std::string& parent, const KeyTable& table,
                    int missing_key_line = 0);
  // The field must be a mapping ("expected <expected>, got ..."); its keys are read as above,
  // missing keys reported at the field's key.
  bool read_mapping(const Field& field, const KeyTable& table,
                    std::string_view expected = "a mapping");

  // Typed values. Each returns false after recording an error, leaving `out` unchanged.
  // Numbers, booleans and words must be plain scalars: `"64"` is a string, not a number.
  bool expect_plain_scalar(const Field& field, std::string_view expected);
  // A plain scalar's text, for callers that map words to values; `expected` names them.
  std::optional<std::string> read_word(const Field& field, std::string_view expected);
  bool read_u64(const Field& field, std::uint64_t& out);  // "a non-negative integer"
  bool read_u64_between(const Field& field, std::uint64_t low, std::uint64_t high,
                        std::uint64_t& out);          // "an integer from <low> to <high>"
  bool read_double(const Field& field, double& out);  // "a number": finite, no hex
  bool read_double_between(const Field& field, double low, double high,
                           double& out);                   // "a number from <low> to <high>" (%g)
  bool read_bool(const Field& field, bool& out);           // true/false, yes/no, on/off in any case
  bool read_string(const Field& field, std::string& out);  // any scalar, quoted or not
  // A list of scalars; the line of each item is remembered under "path[i]". `out` is replaced
  // only when every item is a string.
  bool read_string_list(const Field& field, std::string_view expected,
                        std::vector<std::string>& out);
  // One of `choices` (pairs of a name and a value), "expected one of a, b, got ...".
  template <typename Choices, typename T>
  bool read_choice(const Field& field, const Choices& choices, T& out);

  // The document's root as the top-level mapping read by `table` ("expected a mapping of keys at
  // the top level, got ..."); a null root (an empty document) reads nothing.
  void read_top_level(const Node& root, const KeyTable& table);
  // Handlers for key tables that read a field into `out` with the typed readers above, or a
  // nested mapping with `table`. `out` and the reader must outlive the table.
  Handler into(std::uint64_t& out);
  Handler into(double& out);
  Handler into(bool& out);
  Handler into(std::string& out);
  Handler mapping(KeyTable table);

  // "expected <expected>, got <what the field holds>" at the field's line.
  void fail_expected(const Field& field, std::string_view expected);
  void error(int line, std::string key_path, std::string message);
  // `"text"`, `a list`, `a mapping`, `nothing`, ... as messages show a node.
  std::string describe(const Node& node) const;

  const std::string& source_name() const { return source_name_; }
  const std::vector<ConfigError>& errors() const { return errors_; }
  std::size_t error_count() const { return errors_.size(); }

  void remember(const std::string& key_path, int line) { lines_[key_path] = line; }
  // The remembered line of a key path; 0 when it was not read.
  int line_at(std::string_view key_path) const;
  const LineMap& lines() const { return lines_; }

 private:
  std::string source_name_;
  QuotedScalars quoted_;
  std::vector<ConfigError> errors_;
  LineMap lines_;
};

template <typename Choices, typename T>
bool Reader::read_choice(const Field& field, const Choices& choices, T& out) {
  std::string expected = "one of";
  bool first = true;
  for (const auto& choice : choices) {
    expected += (first ? " " : ", ") + std::string(choice.first);
    first = false;
  }
  const std::optional<std::string> word = read_word(field, expected);
  if (!word) return false;
  for (const auto& choice : choices) {
    if (*word == choice.first) {
      out = choice.second;
      return true;
    }
  }
  fail_expected(field, expected);
  return false;
}

}  // namespace xenballoon::strict_yaml
