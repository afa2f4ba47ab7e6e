#include "xenballoon/config/strict_yaml.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <sstream>
#include <utility>

#include "xenballoon/util/parse.h"

namespace xenballoon::strict_yaml {

// yaml-cpp tags a plain (unquoted, untagged) scalar "?" and a quoted one "!".
constexpr std::string_view kPlainScalarTag = "?";

struct Node::Impl {
  YAML::Node node;

  static Node wrap(YAML::Node node) {
    return Node(std::make_shared<const Impl>(Impl{std::move(node)}));
  }
};

namespace {

// yaml-cpp 0.7's LoadAll never returns on a text with a ',' where a document's top node would
// start ("," or "&a ,", found by tests/fuzz): it leaves the ',' where it is and makes an empty
// document of it, again and again. Its event parser shows that as a document starting where the
// one before it did; the mark of that place, or nullopt.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::optional<YAML::Mark> stuck_at(const std::string& yaml) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  DocumentStarts documents;
  while (parser.HandleNextDocument(documents)) {
    const std::vector<YAML::Mark>& starts = documents.starts;
    if (starts.size() >= 2 && starts[starts.size() - 1].pos == starts[starts.size() - 2].pos) {
      return starts.back();
    }
  }
  return std::nullopt;
}

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

const std::string kEmpty;

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string format_number(double number) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", number);
  return text;
}

}  // namespace

Node::Node() = default;

Node::Node(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

NodeKind Node::kind() const {
  if (!impl_) return NodeKind::kNull;
  switch (impl_->node.Type()) {
    case YAML::NodeType::Scalar:
      return NodeKind::kScalar;
    case YAML::NodeType::Sequence:
      return NodeKind::kList;
    case YAML::NodeType::Map:
      return NodeKind::kMapping;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return NodeKind::kNull;
}

int Node::line() const {
  return impl_ ? line_of(impl_->node) : 0;
}

bool Node::is_plain() const {
  return is_scalar() && impl_->node.Tag() == kPlainScalarTag;
}

const std::string& Node::text() const {
  return is_scalar() ? impl_->node.Scalar() : kEmpty;
}

std::vector<Node> Node::items() const {
  std::vector<Node> out;
  if (!is_list()) return out;
  const YAML::Node& list = impl_->node;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) out.push_back(Impl::wrap(list[i]));
  return out;
}

std::vector<Entry> Node::entries() const {
  std::vector<Entry> out;
  if (!is_mapping()) return out;
  for (const auto& entry : impl_->node) {
    out.push_back(Entry{Impl::wrap(entry.first), Impl::wrap(entry.second)});
  }
  return out;
}

std::optional<Node> Node::find(std::string_view key) const {
  for (const Entry& entry : entries()) {
    if (entry.key.is_scalar() && entry.key.text() == key) return entry.value;
  }
  return std::nullopt;
}

std::vector<Field> list_items(const Field& list) {
  std::vector<Field> out;
  const std::vector<Node> items = list.value.items();
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(Field{list.key, items[i], list.path + "[" + std::to_string(i) + "]"});
  }
  return out;
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

Reader::Reader(std::string source_name, QuotedScalars quoted)
    : source_name_(std::move(source_name)), quoted_(quoted) {}

std::optional<Node> Reader::parse_document(std::string_view text, DocumentRule rule) {
  std::vector<YAML::Node> documents;
  try {
    const std::string yaml(text);
    if (const std::optional<YAML::Mark> stuck = stuck_at(yaml)) {
      const std::size_t at = static_cast<std::size_t>(stuck->pos);
      error(stuck->line + 1, "",
            "YAML syntax error: unexpected " +
                quote_untrusted(yaml.substr(std::min(at, yaml.size()), 1)));
      return std::nullopt;
    }
    documents = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    error(e.mark.is_null() ? 0 : e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  const std::string found = "expected one YAML document, found " + std::to_string(documents.size());
  switch (rule) {
    case DocumentRule::kAtMostOne:
      if (documents.size() > 1) error(line_of(documents[1]), "", found);
      if (documents.empty()) return Node();
      break;
    case DocumentRule::kExactlyOne:
      if (documents.size() != 1) {
        error(0, "", found);
        return std::nullopt;
      }
      break;
  }
  return Node::Impl::wrap(documents.front());
}

void Reader::read_mapping(const Node& mapping, const std::string& parent, const KeyTable& table,
                          int missing_key_line) {
  std::set<std::string, std::less<>> seen;
  for (const Entry& entry : mapping.entries()) {
    if (!entry.key.is_scalar()) {
      error(entry.key.line(), parent, "keys must be plain words, got " + describe(entry.key));
      continue;
    }
    const std::string& name = entry.key.text();
    const std::string path = join_path(parent, name);
    if (!seen.insert(name).second) {
      error(entry.key.line(), path, "duplicate key");
      continue;
    }
    const auto key = std::find_if(table.begin(), table.end(),
                                  [&](const Key& candidate) { return candidate.name == name; });
    if (key == table.end()) {
      error(entry.key.line(), path, "unknown key");
      continue;
    }
    const Field field{entry.key, entry.value, path};
    remember(path, field.line());
    key->read(field);
  }
  for (const Key& key : table) {
    if (key.required && !seen.contains(key.name)) {
      error(missing_key_line, join_path(parent, key.name), "missing key");
    }
  }
}

bool Reader::read_mapping(const Field& field, const KeyTable& table, std::string_view expected) {
  if (!field.value.is_mapping()) {
    fail_expected(field, expected);
    return false;
  }
  read_mapping(field.value, field.path, table, field.key.line());
  return true;
}

bool Reader::expect_plain_scalar(const Field& field, std::string_view expected) {
  if (field.value.is_plain()) return true;
  fail_expected(field, expected);
  return false;
}

std::optional<std::string> Reader::read_word(const Field& field, std::string_view expected) {
  if (!expect_plain_scalar(field, expected)) return std::nullopt;
  return field.value.text();
}

bool Reader::read_u64(const Field& field, std::uint64_t& out) {
  constexpr std::string_view kExpected = "a non-negative integer";
  if (!expect_plain_scalar(field, kExpected)) return false;
  const auto number = parse_u64(field.value.text());
  if (!number) {
    fail_expected(field, kExpected);
    return false;
  }
  out = *number;
  return true;
}

bool Reader::read_u64_between(const Field& field, std::uint64_t low, std::uint64_t high,
                              std::uint64_t& out) {
  const std::string expected =
      "an integer from " + std::to_string(low) + " to " + std::to_string(high);
  if (!expect_plain_scalar(field, expected)) return false;
  const auto number = parse_u64(field.value.text());
  if (!number || *number < low || *number > high) {
    fail_expected(field, expected);
    return false;
  }
  out = *number;
  return true;
}

bool Reader::read_double(const Field& field, double& out) {
  constexpr std::string_view kExpected = "a number";
  if (!expect_plain_scalar(field, kExpected)) return false;
  const auto number = parse_double(field.value.text());
  if (!number) {
    fail_expected(field, kExpected);
    return false;
  }
  out = *number;
  return true;
}

bool Reader::read_double_between(const Field& field, double low, double high, double& out) {
  const std::string expected = "a number from " + format_number(low) + " to " + format_number(high);
  if (!expect_plain_scalar(field, expected)) return false;
  const auto number = parse_double(field.value.text());
  if (!number || *number < low || *number > high) {
    fail_expected(field, expected);
    return false;
  }
  out = *number;
  return true;
}

bool Reader::read_bool(const Field& field, bool& out) {
  constexpr std::string_view kExpected = "true or false";
  if (!expect_plain_scalar(field, kExpected)) return false;
  const std::string word = lowercase(field.value.text());
  if (word == "true" || word == "yes" || word == "on") {
    out = true;
  } else if (word == "false" || word == "no" || word == "off") {
    out = false;
  } else {
    fail_expected(field, kExpected);
    return false;
  }
  return true;
}

bool Reader::read_string(const Field& field, std::string& out) {
  if (!field.value.is_scalar()) {
    fail_expected(field, "a string");
    return false;
  }
  out = field.value.text();
  return true;
}

bool Reader::read_string_list(const Field& field, std::string_view expected,
                              std::vector<std::string>& out) {
  if (!field.value.is_list()) {
    fail_expected(field, expected);
    return false;
  }
  std::vector<std::string> items;
  bool all_ok = true;
  for (const Field& item : list_items(field)) {
    if (!item.value.is_scalar()) {
      error(item.own_line(), item.path, "expected a string, got " + describe(item.value));
      all_ok = false;
      continue;
    }
    remember(item.path, item.value.line());
    items.push_back(item.value.text());
  }
  if (all_ok) out = std::move(items);
  return all_ok;
}

void Reader::fail_expected(const Field& field, std::string_view expected) {
  error(field.line(), field.path,
        "expected " + std::string(expected) + ", got " + describe(field.value));
}

void Reader::error(int line, std::string key_path, std::string message) {
  errors_.push_back(ConfigError{source_name_, line, std::move(key_path), std::move(message)});
}

std::string Reader::describe(const Node& node) const {
  switch (node.kind()) {
    case NodeKind::kNull:
      return "nothing";
    case NodeKind::kList:
      return "a list";
    case NodeKind::kMapping:
      return "a mapping";
    case NodeKind::kScalar:
      if (quoted_ == QuotedScalars::kNamed && !node.is_plain()) {
        return "the quoted or tagged string \"" + node.text() + "\"";
      }
      return "\"" + node.text() + "\"";
  }
  return "nothing";
}

int Reader::line_at(std::string_view key_path) const {
  const auto found = lines_.find(key_path);
  return found == lines_.end() ? 0 : found->second;
}

void Reader::read_top_level(const Node& root, const KeyTable& table) {
  if (root.is_null()) return;
  if (!root.is_mapping()) {
    error(root.line(), "", "expected a mapping of keys at the top level, got " + describe(root));
    return;
  }
  read_mapping(root, "", table);
}

Handler Reader::into(std::uint64_t& out) {
  return [this, &out](const Field& f) { read_u64(f, out); };
}
Handler Reader::into(double& out) {
  return [this, &out](const Field& f) { read_double(f, out); };
}
Handler Reader::into(bool& out) {
  return [this, &out](const Field& f) { read_bool(f, out); };
}
Handler Reader::into(std::string& out) {
  return [this, &out](const Field& f) { read_string(f, out); };
}
Handler Reader::mapping(KeyTable table) {
  return [this, table = std::move(table)](const Field& f) {
    read_mapping(f, table, "a mapping of keys");
  };
}

}  // namespace xenballoon::strict_yaml
