// dom0/label_text.h: label and cell text made valid UTF-8, capped and escaped; uuids from vm paths.
#include <catch2/catch.hpp>
#include <string>

#include "xenballoon/dom0/label_text.h"

using namespace xenballoon;
using namespace xenballoon::dom0;

TEST_CASE("label text is valid UTF-8, capped at a character boundary, and escaped") {
  CHECK(to_valid_utf8("plain") == "plain");
  CHECK(to_valid_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(to_valid_utf8("a\xFFz") == "a\xEF\xBF\xBDz");
  CHECK(to_valid_utf8(std::string("a\0b", 3)) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(to_valid_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  CHECK(to_valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(to_valid_utf8("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
  CHECK(to_valid_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  CHECK(to_valid_utf8(std::string(500, 'n')).size() == kMaxLabelBytes);
  CHECK(to_valid_utf8("ab\xC3\xA9", 3) == "ab");  // no half character at the cut

  std::string out;
  append_label_value(out, "q\"b\\n\nx");
  CHECK(out == "q\\\"b\\\\n\\nx");
  out.clear();
  append_json_string(out, "a\"\\\n\x01");
  CHECK(out == "\"a\\\"\\\\\\u000a\\u0001\"");

  CHECK(uuid_from_vm_path("/vm/632EA78C-e949-11f1-9b01-4b366020df3b") ==
        "632ea78c-e949-11f1-9b01-4b366020df3b");
  CHECK(uuid_from_vm_path("/vm/../../etc/passwd").empty());
  CHECK(uuid_from_vm_path("/vm/632ea78c-e949-11f1-9b01-4b366020df3g").empty());
  CHECK(uuid_from_vm_path("632ea78c-e949-11f1-9b01-4b366020df3b").empty());

  CHECK(printable_cell("a\nb\x1b[31m", 20) == "a?b?[31m");
  CHECK(printable_cell("abcdefgh", 5) == "abcd~");
  CHECK(printable_cell("caf\xC3\xA9", 4) == "caf\xC3\xA9");
  CHECK(printable_cell("\xC2\x9B"
                       "x",
                       4) == "?x");  // C1 CSI
}
