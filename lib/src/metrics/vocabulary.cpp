#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::metrics {
namespace {

// Metric names allow [a-zA-Z0-9_:]; "Active(anon)" -> "Active_anon".
std::string sanitize(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) {
      out.push_back(c);
    } else if (c != ')' && (out.empty() || out.back() != '_')) {
      out.push_back('_');
    }
  }
  return out;
}

}  // namespace

std::string meminfo_family(std::string_view field, bool has_kb_unit) {
  std::string name = "xenballoon_memory_" + sanitize(field);
  return has_kb_unit ? name + "_bytes" : name;
}

std::string vmstat_family(std::string_view counter) {
  return "xenballoon_vmstat_" + sanitize(counter) + "_total";
}

}  // namespace xenballoon::metrics
