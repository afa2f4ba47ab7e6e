#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "xenballoon/config/strict_yaml.h"

using namespace xenballoon;
using namespace xenballoon::strict_yaml;

namespace {

struct Settings {
  std::uint64_t interval = 1;
  std::uint64_t reserve_mib = 128;
  std::uint64_t percent = 50;
  double threshold = 1.0;
  bool enabled = true;
  std::string name = "default";
  std::vector<std::string> fields = {"a"};
};

std::vector<std::string> messages(const Reader& reader) {
  std::vector<std::string> out;
  for (const ConfigError& error : reader.errors()) out.push_back(error.to_string());
  return out;
}

// A small two-level key table: the shape every configuration has.
void read_settings(Reader& reader, const Node& root, Settings& settings) {
  const KeyTable pressure = {
      {"reserve_mib", [&](const Field& f) { reader.read_u64(f, settings.reserve_mib); }},
      {"threshold", [&](const Field& f) { reader.read_double(f, settings.threshold); }},
  };
  reader.read_mapping(
      root, "",
      {{"interval", [&](const Field& f) { reader.read_u64(f, settings.interval); }},
       {"percent", [&](const Field& f) { reader.read_u64_between(f, 0, 100, settings.percent); }},
       {"enabled", [&](const Field& f) { reader.read_bool(f, settings.enabled); }},
       {"name", [&](const Field& f) { reader.read_string(f, settings.name); }, true},
       {"fields",
        [&](const Field& f) { reader.read_string_list(f, "a list of strings", settings.fields); }},
       {"pressure", [&](const Field& f) { reader.read_mapping(f, pressure); }}},
      1);
}

// Parses and reads `yaml`; the reader keeps the errors and lines.
Settings read(Reader& reader, std::string_view yaml) {
  Settings settings;
  const std::optional<Node> root = reader.parse_document(yaml, DocumentRule::kAtMostOne);
  if (root && root->is_mapping()) read_settings(reader, *root, settings);
  return settings;
}

std::vector<std::string> errors_of(std::string_view yaml,
                                   QuotedScalars quoted = QuotedScalars::kNamed) {
  Reader reader("t.yaml", quoted);
  read(reader, yaml);
  return messages(reader);
}

}  // namespace

TEST_CASE("strict yaml: a well-formed table is read with the line of every key") {
  Reader reader("t.yaml");
  const Settings settings = read(reader,
                                 "name: x\n"
                                 "interval: 5\n"
                                 "pressure:\n"
                                 "  reserve_mib: 64\n"
                                 "  threshold: 2.5\n"
                                 "fields: [p, 'q']\n"
                                 "enabled: Off\n");
  CHECK(reader.errors().empty());
  CHECK(settings.name == "x");
  CHECK(settings.interval == 5);
  CHECK(settings.reserve_mib == 64);
  CHECK(settings.threshold == 2.5);
  CHECK(settings.fields == std::vector<std::string>{"p", "q"});
  CHECK_FALSE(settings.enabled);
  CHECK(reader.line_at("interval") == 2);
  CHECK(reader.line_at("pressure") == 3);
  CHECK(reader.line_at("pressure.reserve_mib") == 4);
  CHECK(reader.line_at("fields[1]") == 6);
  CHECK(reader.line_at("percent") == 0);
}

TEST_CASE("strict yaml: an unknown key is an error at its line, with its full path") {
  CHECK(errors_of("name: x\nintervall: 2\n") ==
        std::vector<std::string>{"t.yaml:2: intervall: unknown key"});
  CHECK(errors_of("name: x\npressure:\n  reserve_mib: 1\n  colour: red\n") ==
        std::vector<std::string>{"t.yaml:4: pressure.colour: unknown key"});
}

TEST_CASE("strict yaml: a duplicate key is an error at the second one") {
  CHECK(errors_of("name: x\ninterval: 1\ninterval: 2\n") ==
        std::vector<std::string>{"t.yaml:3: interval: duplicate key"});
  CHECK(errors_of("name: x\npressure:\n  reserve_mib: 1\n  reserve_mib: 2\n") ==
        std::vector<std::string>{"t.yaml:4: pressure.reserve_mib: duplicate key"});
}

TEST_CASE("strict yaml: a missing required key is reported at the mapping's line") {
  CHECK(errors_of("interval: 1\n") == std::vector<std::string>{"t.yaml:1: name: missing key"});
}

TEST_CASE("strict yaml: errors in nested mappings name the dotted key path") {
  CHECK(errors_of("name: x\npressure:\n  reserve_mib: lots\n") ==
        std::vector<std::string>{
            R"(t.yaml:3: pressure.reserve_mib: expected a non-negative integer, got "lots")"});
  CHECK(errors_of("name: x\npressure: 5\n") ==
        std::vector<std::string>{R"(t.yaml:2: pressure: expected a mapping, got "5")"});
  CHECK(errors_of("name: x\npressure:\n  - 1\n") ==
        std::vector<std::string>{"t.yaml:2: pressure: expected a mapping, got a list"});
}

TEST_CASE("strict yaml: numbers and booleans must be plain, not quoted or tagged") {
  CHECK(
      errors_of("name: x\ninterval: '5'\n") ==
      std::vector<std::string>{
          R"(t.yaml:2: interval: expected a non-negative integer, got the quoted or tagged string "5")"});
  CHECK(
      errors_of("name: x\ninterval: !!int 5\n") ==
      std::vector<std::string>{
          R"(t.yaml:2: interval: expected a non-negative integer, got the quoted or tagged string "5")"});
  CHECK(errors_of("name: x\nenabled: \"true\"\n", QuotedScalars::kLikePlain) ==
        std::vector<std::string>{R"(t.yaml:2: enabled: expected true or false, got "true")"});
  // Strings take either.
  Reader reader("t.yaml");
  CHECK(read(reader, "name: 'quoted'\n").name == "quoted");
  CHECK(reader.errors().empty());
}

TEST_CASE("strict yaml: a node tells plain from quoted scalars and its kind") {
  Reader reader("t.yaml");
  const std::optional<Node> root = reader.parse_document(
      "a: plain\nb: 'quoted'\nc: [1, 2]\nd: {e: 1}\nf:\n", DocumentRule::kAtMostOne);
  REQUIRE(root);
  REQUIRE(root->is_mapping());
  CHECK(root->find("a")->is_plain());
  CHECK(root->find("a")->text() == "plain");
  CHECK(root->find("b")->is_scalar());
  CHECK_FALSE(root->find("b")->is_plain());
  CHECK(root->find("b")->text() == "quoted");
  CHECK(root->find("c")->kind() == NodeKind::kList);
  CHECK(root->find("c")->items().size() == 2);
  CHECK(root->find("d")->kind() == NodeKind::kMapping);
  CHECK(root->find("f")->is_null());
  CHECK_FALSE(root->find("g"));
  const std::vector<Entry> entries = root->entries();
  REQUIRE(entries.size() == 5);
  CHECK(entries[2].key.text() == "c");
  CHECK(entries[2].key.line() == 3);
  CHECK(reader.describe(*root->find("b")) == R"(the quoted or tagged string "quoted")");
  CHECK(reader.describe(*root->find("f")) == "nothing");
}

TEST_CASE("strict yaml: numbers outside their range name the range") {
  CHECK(errors_of("name: x\npercent: 101\n") ==
        std::vector<std::string>{
            R"(t.yaml:2: percent: expected an integer from 0 to 100, got "101")"});
  CHECK(errors_of("name: x\ninterval: 18446744073709551616\n") ==
        std::vector<std::string>{
            R"(t.yaml:2: interval: expected a non-negative integer, got "18446744073709551616")"});
  CHECK(
      errors_of("name: x\ninterval: -1\n") ==
      std::vector<std::string>{R"(t.yaml:2: interval: expected a non-negative integer, got "-1")"});
  Reader reader("t.yaml");
  const std::optional<Node> root = reader.parse_document("v: 2.5\n", DocumentRule::kAtMostOne);
  REQUIRE(root);
  double value = 0;
  CHECK_FALSE(reader.read_double_between(Field{Node(), *root->find("v"), "v"}, 0, 1, value));
  CHECK(value == 0);
  CHECK(messages(reader) ==
        std::vector<std::string>{R"(t.yaml:1: v: expected a number from 0 to 1, got "2.5")"});
}

TEST_CASE("strict yaml: a value of the wrong shape is an error at its key's line") {
  CHECK(
      errors_of("name: x\ninterval:\n") ==
      std::vector<std::string>{"t.yaml:2: interval: expected a non-negative integer, got nothing"});
  CHECK(errors_of("name:\n  a: b\n") ==
        std::vector<std::string>{"t.yaml:1: name: expected a string, got a mapping"});
  CHECK(errors_of("name: x\nfields:\n  - a\n  - [b]\n") ==
        std::vector<std::string>{"t.yaml:4: fields[1]: expected a string, got a list"});
  CHECK(errors_of("[1]: x\nname: x\n") ==
        std::vector<std::string>{"t.yaml:1: keys must be plain words, got a list"});
}

TEST_CASE("strict yaml: every error of a document is reported, in order") {
  CHECK(errors_of("interval: x\nfoo: 1\npressure:\n  bar: 2\n") ==
        std::vector<std::string>{R"(t.yaml:1: interval: expected a non-negative integer, got "x")",
                                 "t.yaml:2: foo: unknown key",
                                 "t.yaml:4: pressure.bar: unknown key",
                                 "t.yaml:1: name: missing key"});
}

TEST_CASE("strict yaml: a syntax error is one error at its line and nothing is read") {
  Reader reader("t.yaml");
  CHECK_FALSE(reader.parse_document("a: 1\nb: [1\nc: 2\n", DocumentRule::kAtMostOne));
  CHECK(messages(reader) ==
        std::vector<std::string>{"t.yaml:3: YAML syntax error: end of sequence flow not found"});
}

// Found by tests/fuzz (config_yaml): yaml-cpp 0.7's LoadAll never returned on these.
TEST_CASE(
    "strict yaml: a ',' where a document would start is a syntax error, not an endless parse") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"&+a,", "t.yaml:1: YAML syntax error: unexpected \",\""},
      {",", "t.yaml:1: YAML syntax error: unexpected \",\""},
      {"!tag ,\n", "t.yaml:1: YAML syntax error: unexpected \",\""},
      {"a: 1\n---\n&a ,\n", "t.yaml:3: YAML syntax error: unexpected \",\""},
  };
  for (const auto& [yaml, message] : cases) {
    INFO(yaml);
    Reader reader("t.yaml");
    CHECK_FALSE(reader.parse_document(yaml, DocumentRule::kAtMostOne));
    CHECK(messages(reader) == std::vector<std::string>{message});
  }
}

TEST_CASE("strict yaml: two documents are an error, at the second one or without a line") {
  Reader at_most_one("t.yaml");
  const std::optional<Node> first =
      at_most_one.parse_document("a: 1\n---\na: 2\n", DocumentRule::kAtMostOne);
  REQUIRE(first);
  CHECK(first->find("a")->text() == "1");
  CHECK(messages(at_most_one) ==
        std::vector<std::string>{"t.yaml:3: expected one YAML document, found 2"});

  Reader exactly_one("t.yaml");
  CHECK_FALSE(exactly_one.parse_document("a: 1\n---\na: 2\n", DocumentRule::kExactlyOne));
  CHECK(messages(exactly_one) ==
        std::vector<std::string>{"t.yaml: expected one YAML document, found 2"});
}

TEST_CASE("strict yaml: an empty text is an empty document or an error, by rule") {
  Reader at_most_one("t.yaml");
  const std::optional<Node> root = at_most_one.parse_document("", DocumentRule::kAtMostOne);
  REQUIRE(root);
  CHECK(root->is_null());
  CHECK(root->line() == 0);
  CHECK(at_most_one.errors().empty());

  Reader comments("t.yaml");
  const std::optional<Node> commented =
      comments.parse_document("---\n# nothing\n", DocumentRule::kExactlyOne);
  REQUIRE(commented);
  CHECK(commented->is_null());

  Reader exactly_one("t.yaml");
  CHECK_FALSE(exactly_one.parse_document("", DocumentRule::kExactlyOne));
  CHECK(messages(exactly_one) ==
        std::vector<std::string>{"t.yaml: expected one YAML document, found 0"});
}

TEST_CASE("strict yaml: choices name every accepted word") {
  enum class Colour { kRed, kGreen };
  static constexpr std::pair<std::string_view, Colour> kColours[] = {{"red", Colour::kRed},
                                                                     {"green", Colour::kGreen}};
  Reader reader("t.yaml");
  const std::optional<Node> root =
      reader.parse_document("a: green\nb: blue\nc: 'red'\n", DocumentRule::kAtMostOne);
  REQUIRE(root);
  Colour colour = Colour::kRed;
  CHECK(reader.read_choice(Field{Node(), *root->find("a"), "a"}, kColours, colour));
  CHECK(colour == Colour::kGreen);
  CHECK_FALSE(reader.read_choice(Field{Node(), *root->find("b"), "b"}, kColours, colour));
  CHECK_FALSE(reader.read_choice(Field{Node(), *root->find("c"), "c"}, kColours, colour));
  CHECK(colour == Colour::kGreen);
  CHECK(messages(reader) ==
        std::vector<std::string>{
            R"(t.yaml:2: b: expected one of red, green, got "blue")",
            R"(t.yaml:3: c: expected one of red, green, got the quoted or tagged string "red")"});
}
