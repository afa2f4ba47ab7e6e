#include "monitor_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include <nlohmann/json.hpp>

#include "xenballoon/dom0/label_text.h"

namespace xenballoon::dom0 {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr std::size_t kNameWidth = 16;

struct ColumnSpec {
  Column column;
  std::string_view key;     // for -s
  std::string_view header;  // in the table
  int width;
};

const std::vector<ColumnSpec>& columns() {
  static const std::vector<ColumnSpec> specs = {
      {Column::kId, "id", "ID", 5},
      {Column::kName, "name", "NAME", static_cast<int>(kNameWidth)},
      {Column::kSource, "src", "SRC", 8},
      {Column::kMemory, "mem", "MEM(M)", 7},
      {Column::kTarget, "target", "TARGET(M)", 9},
      {Column::kStaticMax, "maxmem", "MAXMEM(M)", 9},
      {Column::kCommitted, "commit", "COMMIT(M)", 9},
      {Column::kSwapIn, "swin", "SWIN/s", 8},
      {Column::kSwapOut, "swout", "SWOUT/s", 8},
      {Column::kPageIn, "pgin", "PGIN/s", 8},
      {Column::kPageOut, "pgout", "PGOUT/s", 8},
      {Column::kMajorFaults, "majflt", "MAJFLT/s", 8},
      {Column::kPsi, "psi", "PSI%", 6},
      {Column::kAge, "age", "AGE", 6}};
  return specs;
}

std::optional<double> as_double(const std::optional<std::uint64_t>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

std::optional<double> numeric_value(const MonitorRow& row, Column column) {
  switch (column) {
    case Column::kId:
      return row.domid;
    case Column::kMemory:
      return as_double(row.memory_bytes);
    case Column::kTarget:
      return as_double(row.target_bytes);
    case Column::kStaticMax:
      return as_double(row.static_max_bytes);
    case Column::kCommitted:
      return as_double(row.committed_bytes);
    case Column::kSwapIn:
      return row.rates.swap_in;
    case Column::kSwapOut:
      return row.rates.swap_out;
    case Column::kPageIn:
      return row.rates.page_in;
    case Column::kPageOut:
      return row.rates.page_out;
    case Column::kMajorFaults:
      return row.rates.major_faults;
    case Column::kPsi:
      return row.psi_some_avg10;
    case Column::kAge:
      return row.age_seconds;
    case Column::kName:
    case Column::kSource:
      break;
  }
  return std::nullopt;
}

std::string format_mib(const std::optional<std::uint64_t>& bytes) {
  if (!bytes) return "-";
  return std::to_string(static_cast<std::uint64_t>(std::llround(*bytes / kMiB)));
}

std::string format_fixed(const std::optional<double>& value, int decimals) {
  if (!value) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *value);
  return buf;
}

std::string format_age(const std::optional<double>& seconds) {
  if (!seconds) return "-";
  auto s = static_cast<std::uint64_t>(*seconds);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string cell(const MonitorRow& row, Column column) {
  switch (column) {
    case Column::kId:
      return std::to_string(row.domid);
    case Column::kName:
      return printable_cell(row.name, kNameWidth);
    case Column::kSource:
      return std::string(to_string(row.source));
    case Column::kMemory:
      return format_mib(row.memory_bytes);
    case Column::kTarget:
      return format_mib(row.target_bytes);
    case Column::kStaticMax:
      return format_mib(row.static_max_bytes);
    case Column::kCommitted:
      return format_mib(row.committed_bytes);
    case Column::kPsi:
      return format_fixed(row.psi_some_avg10, 2);
    case Column::kAge:
      return format_age(row.age_seconds);
    default:
      return format_fixed(numeric_value(row, column), 1);
  }
}

void pad(std::string& out, const std::string& text, int width, bool left) {
  int fill = width - static_cast<int>(count_chars(text));
  if (!left) out.append(std::max(fill, 0), ' ');
  out += text;
  if (left) out.append(std::max(fill, 0), ' ');
}

// A JSON number (a real rounded to `decimals`, as the table shows it), or null when unknown.
nlohmann::ordered_json json_number(const std::optional<double>& value, int decimals) {
  if (!value || !std::isfinite(*value)) return nullptr;
  const double scale = std::pow(10.0, decimals);
  return std::round(*value * scale) / scale;
}

nlohmann::ordered_json json_number(const std::optional<std::uint64_t>& value) {
  if (!value) return nullptr;
  return *value;
}

struct Totals {
  std::size_t domains = 0, with_stats = 0;
  std::uint64_t memory = 0, target = 0, static_max = 0;
};

Totals totals_of(const MonitorSnapshot& s) {
  Totals t;
  for (const auto& row : s.rows) {
    ++t.domains;
    if (row.source != StatsSource::kNone) ++t.with_stats;
    t.memory += row.memory_bytes.value_or(0);
    t.target += row.target_bytes.value_or(0);
    t.static_max += row.static_max_bytes.value_or(0);
  }
  return t;
}

}  // namespace

MonitorSnapshot make_snapshot(const std::vector<GuestView>& views, const RateTracker& rates,
                              std::optional<HostMemory> host, double now) {
  MonitorSnapshot s;
  s.time = now;
  s.host = host;
  for (const GuestView& v : views) {
    MonitorRow row;
    row.domid = v.domid;
    row.name = v.name;
    row.uuid = v.uuid;
    row.source = v.source;
    const publish::GuestStats& g = v.stats;
    auto bytes = [](const std::optional<std::uint64_t>& kib) -> std::optional<std::uint64_t> {
      if (!kib) return std::nullopt;
      return *kib * 1024;
    };
    row.memory_bytes = g.current_kib ? bytes(g.current_kib) : g.meminfo_bytes("MemTotal");
    row.target_bytes = bytes(g.dom0_target_kib);
    row.static_max_bytes = bytes(g.static_max_kib);
    row.committed_bytes = g.meminfo_bytes("Committed_AS");
    row.rates = rates.rates(v.domid);
    if (g.psi_some) row.psi_some_avg10 = g.psi_some->avg10;
    // A guest clock a little ahead of dom0's is not "from the future".
    if (g.heartbeat_unix_seconds) {
      row.age_seconds = std::max(0.0, now - static_cast<double>(*g.heartbeat_unix_seconds));
    }
    s.rows.push_back(std::move(row));
  }
  return s;
}

std::optional<Column> parse_column(std::string_view name) {
  std::string lower;
  for (char c : name) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  for (const auto& spec : columns()) {
    if (spec.key == lower) return spec.column;
  }
  return std::nullopt;
}

std::string column_names() {
  std::string out;
  for (const auto& spec : columns()) {
    if (!out.empty()) out += ", ";
    out += spec.key;
  }
  return out;
}

void sort_rows(std::vector<MonitorRow>& rows, Column column, bool reverse) {
  bool text = column == Column::kName || column == Column::kSource;
  bool ascending = text || column == Column::kId;
  if (reverse) ascending = !ascending;
  auto less = [&](const MonitorRow& a, const MonitorRow& b) {
    if (text) {
      std::string ka = column == Column::kName ? a.name : std::string(to_string(a.source));
      std::string kb = column == Column::kName ? b.name : std::string(to_string(b.source));
      if (ka != kb) return ascending ? ka < kb : ka > kb;
      return a.domid < b.domid;
    }
    auto va = numeric_value(a, column), vb = numeric_value(b, column);
    if (va.has_value() != vb.has_value()) return va.has_value();
    if (va && *va != *vb) return ascending ? *va < *vb : *va > *vb;
    return a.domid < b.domid;
  };
  std::stable_sort(rows.begin(), rows.end(), less);
}

std::string format_table(const MonitorSnapshot& s) {
  std::string out;
  auto line = [&](const std::function<std::string(const ColumnSpec&)>& text) {
    bool first = true;
    for (const auto& spec : columns()) {
      if (!first) out += ' ';
      first = false;
      bool left = spec.column == Column::kName || spec.column == Column::kSource;
      pad(out, text(spec), spec.width, left);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  line([](const ColumnSpec& spec) { return std::string(spec.header); });
  for (const auto& row : s.rows) {
    line([&](const ColumnSpec& spec) { return cell(row, spec.column); });
  }
  Totals t = totals_of(s);
  out += "Total: " + std::to_string(t.domains) + " domains, " + std::to_string(t.with_stats) +
         " with statistics; memory " + format_mib(t.memory) + " MiB, target " +
         format_mib(t.target) + " MiB, static-max " + format_mib(t.static_max) + " MiB; host ";
  if (s.host) {
    out += format_mib(s.host->free_bytes) + " MiB free of " + format_mib(s.host->total_bytes) +
           " MiB\n";
  } else {
    out += "memory unknown\n";
  }
  return out;
}

std::string format_json(const MonitorSnapshot& s) {
  using nlohmann::ordered_json;
  ordered_json doc;
  doc["time"] = json_number(s.time, 3);
  doc["host"] = {
      {"total_bytes", json_number(s.host ? std::optional(s.host->total_bytes) : std::nullopt)},
      {"free_bytes", json_number(s.host ? std::optional(s.host->free_bytes) : std::nullopt)}};
  ordered_json domains = ordered_json::array();
  for (const auto& row : s.rows) {
    domains.push_back({{"domid", row.domid},
                       {"name", row.name},
                       {"uuid", row.uuid},
                       {"source", to_string(row.source)},
                       {"memory_bytes", json_number(row.memory_bytes)},
                       {"target_bytes", json_number(row.target_bytes)},
                       {"static_max_bytes", json_number(row.static_max_bytes)},
                       {"committed_bytes", json_number(row.committed_bytes)},
                       {"swap_in_per_second", json_number(row.rates.swap_in, 3)},
                       {"swap_out_per_second", json_number(row.rates.swap_out, 3)},
                       {"page_in_per_second", json_number(row.rates.page_in, 3)},
                       {"page_out_per_second", json_number(row.rates.page_out, 3)},
                       {"major_faults_per_second", json_number(row.rates.major_faults, 3)},
                       {"psi_some_avg10_percent", json_number(row.psi_some_avg10, 2)},
                       {"age_seconds", json_number(row.age_seconds, 3)}});
  }
  doc["domains"] = std::move(domains);
  Totals t = totals_of(s);
  doc["totals"] = {{"domains", t.domains},
                   {"with_statistics", t.with_stats},
                   {"memory_bytes", t.memory},
                   {"target_bytes", t.target},
                   {"static_max_bytes", t.static_max}};
  // Names are valid UTF-8 already (label_text.h); replace keeps a bad byte from throwing.
  return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace xenballoon::dom0
