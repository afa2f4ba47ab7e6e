#include "xenballoon/metrics/vocabulary.h"

namespace xenballoon::metrics {
namespace {

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// /proc names to snake_case metric names (promtool's lint wants lower case):
// "MemTotal" -> "mem_total", "Active(anon)" -> "active_anon", "SReclaimable" -> "s_reclaimable",
// "NFS_Unstable" -> "nfs_unstable", "DirectMap4k" -> "direct_map4k".
std::string snake_case_impl(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (is_upper(c)) {
      bool after_word = i > 0 && raw[i - 1] >= 'a' && raw[i - 1] <= 'z';
      bool acronym_end = i > 0 && is_upper(raw[i - 1]) && i + 1 < raw.size() && raw[i + 1] >= 'a' &&
                         raw[i + 1] <= 'z';
      if ((after_word || acronym_end) && !out.empty() && out.back() != '_') out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (is_lower_or_digit(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

std::string meminfo_family(std::string_view field, bool has_kb_unit) {
  std::string name = "xenballoon_memory_" + snake_case(field);
  // Unitless meminfo fields are page counts (HugePages_Total); "_pages" also keeps a gauge from
  // ending in "_total", which promtool reserves for counters.
  return name + (has_kb_unit ? "_bytes" : "_pages");
}

// Names whose mechanical snake_case reads like a unit to promtool ("s", "sec"): spelled out.
std::string snake_case(std::string_view proc_name) {
  if (proc_name == "SReclaimable") return "slab_reclaimable";
  if (proc_name == "SUnreclaim") return "slab_unreclaimable";
  if (proc_name == "KReclaimable") return "kernel_reclaimable";
  if (proc_name == "SecPageTables") return "secondary_page_tables";
  return snake_case_impl(proc_name);
}

std::string vmstat_family(std::string_view counter) {
  return "xenballoon_vmstat_" + snake_case_impl(counter) + "_total";
}

}  // namespace xenballoon::metrics
