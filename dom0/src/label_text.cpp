#include "xenballoon/dom0/label_text.h"

#include <cstdint>

namespace xenballoon::dom0 {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one.
std::size_t valid_sequence_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return lead == 0 ? 0 : 1;
  std::size_t length;
  std::uint32_t code;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  if (overlong || surrogate || code > 0x10FFFF) return 0;
  return length;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string to_valid_utf8(std::string_view raw, std::size_t max_bytes) {
  std::string out;
  out.reserve(raw.size() < max_bytes ? raw.size() : max_bytes);
  std::size_t i = 0;
  while (i < raw.size()) {
    std::size_t length = valid_sequence_length(raw, i);
    std::string_view piece = length ? raw.substr(i, length) : kReplacement;
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    i += length ? length : 1;
  }
  return out;
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void append_json_string(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string uuid_from_vm_path(std::string_view vm_path) {
  constexpr std::string_view kPrefix = "/vm/";
  if (vm_path.substr(0, kPrefix.size()) != kPrefix) return "";
  std::string_view uuid = vm_path.substr(kPrefix.size());
  if (uuid.size() != 36) return "";
  std::string out;
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? uuid[i] != '-' : !is_hex(uuid[i])) return "";
    char c = uuid[i];
    out.push_back(c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::string printable_cell(std::string_view utf8, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0, i = 0;
  std::size_t total = count_chars(utf8);
  while (i < utf8.size()) {
    if (total > max_chars && chars + 1 == max_chars) {
      out.push_back('~');
      break;
    }
    std::size_t length = valid_sequence_length(utf8, i);
    if (length == 0) length = 1;
    auto byte = static_cast<unsigned char>(utf8[i]);
    bool control = length == 1 && (byte < 0x20 || byte == 0x7F);
    // C1 controls (U+0080..U+009F) can drive a terminal as well.
    bool c1 = length == 2 && byte == 0xC2 && static_cast<unsigned char>(utf8[i + 1]) < 0xA0;
    if (control || c1) {
      out.push_back('?');
    } else {
      out.append(utf8.substr(i, length));
    }
    i += length;
    ++chars;
  }
  return out;
}

std::size_t count_chars(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace xenballoon::dom0
