#include "tree_text.h"

#include <cstdio>

#include "xenballoon/util/parse.h"

namespace xenstored_lite {
namespace {

void escape_value(const std::string& value, std::string* out) {
  for (unsigned char ch : value) {
    if (ch == '\\') {
      out->append("\\\\");
    } else if (ch >= ' ' && ch <= '~') {
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
    if (i + 1 >= text.size()) return false;
    char next = text[i + 1];
    if (next == '\\') {
      out->push_back('\\');
      ++i;
    } else if (i + 3 < text.size() && next >= '0' && next <= '7') {
      int value = 0;
      for (int k = 1; k <= 3; ++k) {
        char d = text[i + k];
        if (d < '0' || d > '7') return false;
        value = value * 8 + (d - '0');
      }
      if (value > 255) return false;
      out->push_back(static_cast<char>(value));
      i += 3;
    } else {
      return false;
    }
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
  auto domid = xenballoon::parse_u64(text.substr(1));
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

xenballoon::Result<void> load_tree(Store& store, std::string_view text,
                                   const std::string& source_name) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (xenballoon::trim(line).empty() || line.front() == '#') continue;

    auto where = source_name + ":" + std::to_string(line_no) + ": ";
    auto eq = line.find(" = \"");
    auto perms_open = line.rfind("\"   (");
    if (eq == std::string_view::npos || perms_open == std::string_view::npos ||
        perms_open < eq + 3 || line.back() != ')') {
      return xenballoon::Error{where + "expected '/path = \"value\"   (perms)'", EINVAL};
    }
    std::string path(line.substr(0, eq));
    if (!Store::is_valid_path(path) || path == "/") {
      return xenballoon::Error{where + "invalid path \"" + path + "\"", EINVAL};
    }
    std::string value;
    if (!unescape_value(line.substr(eq + 4, perms_open - (eq + 4)), &value)) {
      return xenballoon::Error{where + "bad escape in value", EINVAL};
    }
    std::string_view perm_text = line.substr(perms_open + 5);
    perm_text.remove_suffix(1);
    Perms perms;
    while (!perm_text.empty()) {
      auto comma = perm_text.find(',');
      Perm perm;
      if (!parse_perm(perm_text.substr(0, comma), &perm)) {
        return xenballoon::Error{
            where + "bad permission \"" + std::string(perm_text.substr(0, comma)) + "\"", EINVAL};
      }
      perms.push_back(perm);
      perm_text =
          comma == std::string_view::npos ? std::string_view{} : perm_text.substr(comma + 1);
    }
    if (perms.empty()) return xenballoon::Error{where + "no permissions", EINVAL};
    store.load_node(path, std::move(value), std::move(perms));
  }
  return {};
}

}  // namespace xenstored_lite
