#include "scrape_check.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace xenballoon::bench {
namespace {

bool name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool name_char(char c) {
  return name_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

bool is_number(std::string_view text) {
  if (text == "+Inf" || text == "-Inf" || text == "NaN") return true;
  if (text.empty()) return false;
  std::string copy(text);
  char* end = nullptr;
  std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

// Why `line` is not a sample, or "".
std::string sample_problem(std::string_view line) {
  std::size_t i = 0;
  if (line.empty() || !name_start(line[0])) return "no metric name";
  while (i < line.size() && name_char(line[i])) ++i;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      if (!name_start(line[i])) return "bad label name";
      while (i < line.size() && name_char(line[i])) ++i;
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return "label without =\"";
      i += 2;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\') {
          if (i + 1 >= line.size()) return "unfinished escape";
          char e = line[i + 1];
          if (e != '\\' && e != '"' && e != 'n') return "bad escape";
          ++i;
        }
        ++i;
      }
      if (i >= line.size()) return "unterminated label value";
      ++i;  // the closing quote
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return "unterminated labels";
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') return "no value";
  std::string_view rest = line.substr(i + 1);
  auto space = rest.find(' ');
  if (!is_number(rest.substr(0, space))) return "value is not a number";
  if (space != std::string_view::npos && !is_number(rest.substr(space + 1))) {
    return "bad timestamp";
  }
  return "";
}

}  // namespace

std::string exposition_problem(std::string_view text) {
  if (text.empty()) return "empty exposition";
  if (text.back() != '\n') return "exposition does not end with a newline";
  std::size_t number = 0;
  for (std::size_t at = 0; at < text.size();) {
    auto end = text.find('\n', at);
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++number;
    if (line.empty() || line[0] == '#') continue;
    if (auto problem = sample_problem(line); !problem.empty()) {
      return "line " + std::to_string(number) + ": " + problem + ": " +
             std::string(line.substr(0, 120));
    }
  }
  return "";
}

double sample_value(std::string_view text, std::string_view series) {
  const std::string needle = std::string(series) + " ";
  for (std::size_t at = 0; at < text.size();) {
    auto end = text.find('\n', at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? end : end - at);
    if (line.substr(0, needle.size()) == needle) {
      return std::strtod(std::string(line.substr(needle.size())).c_str(), nullptr);
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return -1;
}

double family_sum(std::string_view text, std::string_view name) {
  double sum = 0;
  for (std::size_t at = 0; at < text.size();) {
    auto end = text.find('\n', at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? end : end - at);
    if (line.substr(0, name.size()) == name && line.size() > name.size() &&
        (line[name.size()] == ' ' || line[name.size()] == '{')) {
      auto space = line.rfind(' ');
      double value = std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
      if (std::isfinite(value)) sum += value;
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return sum;
}

}  // namespace xenballoon::bench
