// The pieces of the Prometheus text exposition (format 0.0.4) that the direct writers share (the
// exporter's per-guest families, the balancer's /metrics): numbers as their shortest exact text,
// HELP/TYPE headers from the vocabulary, single unlabelled series. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::metrics {

void append_number(std::string& out, std::uint64_t value);
void append_number(std::string& out, double value);  // shortest round trip (std::to_chars)
void append_number(std::string& out, bool value);    // 1 or 0

std::string_view type_name(Type type);  // "gauge", "counter", "histogram"
// "# HELP name help\n# TYPE name type\n".
void append_header(std::string& out, std::string_view name, std::string_view help, Type type);
inline void append_header(std::string& out, const Family& family) {
  append_header(out, family.name, family.help, family.type);
}

// A family with one unlabelled series: its header and "name value\n".
template <typename Number>
void append_single(std::string& out, const Family& family, Number value) {
  append_header(out, family);
  out.append(family.name).push_back(' ');
  append_number(out, value);
  out.push_back('\n');
}

}  // namespace xenballoon::metrics
