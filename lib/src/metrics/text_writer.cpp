#include "xenballoon/metrics/text_writer.h"

#include <charconv>

namespace xenballoon::metrics {

void append_number(std::string& out, std::uint64_t value) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

void append_number(std::string& out, double value) {
  char buf[40];
  auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

void append_number(std::string& out, bool value) {
  out.push_back(value ? '1' : '0');
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kHistogram:
      return "histogram";
    case Type::kGauge:
      break;
  }
  return "gauge";
}

void append_header(std::string& out, std::string_view name, std::string_view help, Type type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type_name(type)).append("\n");
}

}  // namespace xenballoon::metrics
