#include "tree_text.h"

#include <cstdio>

#include "xenballoon/util/parse.h"

namespace xenballoon::xenstored_lite {
namespace {

// As xenstore-ls prints values (sanitise_value in xs_lib.c): \t \n \r \f \\ and octal.
void escape_value(const std::string& value, std::string* out) {
  for (unsigned char ch : value) {
    switch (ch) {
      case '\\':
        out->append("\\\\");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      default:
        break;
    }
    if (ch >= ' ' && ch <= '~') {
      out->push_back(static_cast<char>(ch));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03o", ch);
      out->append(buf);
    }
  }
}

bool unescape_value(std::string_view text, std::string* out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch != '\\') {
      out->push_back(ch);
      continue;
    }
    if (++i >= text.size()) return false;
    switch (text[i]) {
      case '\\':
        out->push_back('\\');
        continue;
      case 't':
        out->push_back('\t');
        continue;
      case 'n':
        out->push_back('\n');
        continue;
      case 'r':
        out->push_back('\r');
        continue;
      case 'f':
        out->push_back('\f');
        continue;
      default:
        break;
    }
    int value = 0, digits = 0;
    while (digits < 3 && i < text.size() && text[i] >= '0' && text[i] <= '7') {
      value = value * 8 + (text[i] - '0');
      ++i, ++digits;
    }
    if (digits == 0 || value > 255) return false;
    --i;
    out->push_back(static_cast<char>(value));
  }
  return true;
}

char perm_letter(std::uint8_t bits) {
  bool r = bits & kPermRead, w = bits & kPermWrite;
  return r && w ? 'b' : r ? 'r' : w ? 'w' : 'n';
}

}  // namespace

std::string perms_to_text(const Perms& perms) {
  std::string out;
  for (std::size_t i = 0; i < perms.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back(perm_letter(perms[i].bits));
    out.append(std::to_string(perms[i].domid));
  }
  return out;
}

bool parse_perm(std::string_view text, Perm* out) {
  if (text.size() < 2) return false;
  std::uint8_t bits;
  switch (text[0]) {
    case 'n':
      bits = kPermNone;
      break;
    case 'r':
      bits = kPermRead;
      break;
    case 'w':
      bits = kPermWrite;
      break;
    case 'b':
      bits = kPermRead | kPermWrite;
      break;
    default:
      return false;
  }
  auto domid = parse_u64(text.substr(1));
  if (!domid || *domid > 0xffffffffu) return false;
  out->domid = static_cast<std::uint32_t>(*domid);
  out->bits = bits;
  return true;
}

std::string dump_tree(const Store& store) {
  std::string out;
  store.for_each_preorder([&](const std::string& path, const Node& node) {
    if (path == "/") return;
    out.append(path).append(" = \"");
    escape_value(node.value, &out);
    out.append("\"   (").append(perms_to_text(node.perms)).append(")\n");
  });
  return out;
}

Result<void> load_tree(Store& store, std::string_view text, const std::string& source_name) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty() || line.front() == '#') continue;

    auto where = source_name + ":" + std::to_string(line_no) + ": ";
    auto eq = line.find(" = \"");
    auto perms_open = line.rfind("\"   (");
    if (eq == std::string_view::npos || perms_open == std::string_view::npos ||
        perms_open < eq + 3 || line.back() != ')') {
      return Error{where + "expected '/path = \"value\"   (perms)'", EINVAL};
    }
    std::string path(line.substr(0, eq));
    if (!Store::is_valid_path(path) || path == "/") {
      return Error{where + "invalid path \"" + path + "\"", EINVAL};
    }
    std::string value;
    if (!unescape_value(line.substr(eq + 4, perms_open - (eq + 4)), &value)) {
      return Error{where + "bad escape in value", EINVAL};
    }
    std::string_view perm_text = line.substr(perms_open + 5);
    perm_text.remove_suffix(1);
    Perms perms;
    while (!perm_text.empty()) {
      auto comma = perm_text.find(',');
      Perm perm;
      if (!parse_perm(perm_text.substr(0, comma), &perm)) {
        return Error{where + "bad permission \"" + std::string(perm_text.substr(0, comma)) + "\"",
                     EINVAL};
      }
      perms.push_back(perm);
      perm_text =
          comma == std::string_view::npos ? std::string_view{} : perm_text.substr(comma + 1);
    }
    if (perms.empty()) return Error{where + "no permissions", EINVAL};
    store.load_node(path, std::move(value), std::move(perms));
  }
  return {};
}

}  // namespace xenballoon::xenstored_lite
