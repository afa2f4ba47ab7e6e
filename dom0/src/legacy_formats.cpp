#include "xenballoon/dom0/legacy_formats.h"

#include "xenballoon/util/parse.h"

namespace xenballoon::dom0 {
namespace {

// decode_value refuses anything larger; refusing it here keeps the conversion bounded too.
constexpr std::size_t kMaxTextBytes = 4096;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '(' || c == ')';
}

}  // namespace

std::optional<std::string> legacy_meminfo_to_layout(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() > kMaxTextBytes) return "too_large";
  std::string converted;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (trim(line).empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return "malformed";
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!is_name_char(c)) return "malformed";
    }
    std::string_view number = trim(line.substr(colon + 1));
    if (number.size() > 3 && number.substr(number.size() - 3) == " kB") {
      number = trim(number.substr(0, number.size() - 3));
    }
    if (!parse_u64(number)) return "malformed";
    converted.append(name).append(" ").append(number).append("\n");
  }
  *out = std::move(converted);
  return std::nullopt;
}

std::optional<std::string> decode_kib_value(std::string_view text,
                                            std::optional<std::uint64_t>* out) {
  out->reset();
  if (text.size() > 64) return "too_large";
  auto value = parse_u64(trim(text));
  if (!value) return "malformed";
  if (*value > kMaxKib) return "out_of_range";
  *out = value;
  return std::nullopt;
}

}  // namespace xenballoon::dom0
